import http from "node:http";
import { count } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { imports } from "../../drizzle/schema.ts";
import type { BoardSnapshot } from "../../shared/board.ts";
import type { ImportView } from "../../shared/schemas/imports.ts";
import { makeUser } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import {
  collectEvents,
  connectSocket,
  login,
  request,
  startTestServer,
  until,
  waitForConnect,
  type TestServer,
  type TestSocket,
} from "../support/server.ts";

let serial = 0;
const tag = () => `h${Date.now().toString(36)}${++serial}`;
const fiftyMb = 50 * 1024 * 1024;

/** A raw HTTP exchange: node:http lets a test send what fetch will not (a false length, a slow body). */
function rawPost(
  url: string,
  headers: Record<string, string | number>,
  write: (req: http.ClientRequest) => void,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    });
    req.on("error", reject);
    write(req);
  });
}

describe.each(drivers)("CSV imports over HTTP on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let cookie: string;
  let viewerCookie: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const auth = server.app.services.auth;
    cookie = await login(server.url, (await makeUser(auth, "marketer")).user.email);
    viewerCookie = await login(server.url, (await makeUser(auth, "viewer")).user.email);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const post = (query: string, body: string, type = "text/csv", as = cookie) =>
    fetch(`${server.url}/api/imports?${query}`, { method: "POST", headers: { cookie: as, "content-type": type }, body });
  const view = async (id: string, as = cookie) => fetch(`${server.url}/api/imports/${id}`, { headers: { cookie: as } });
  /** Polls as a script would, until the import has ended. */
  async function finished(id: string): Promise<ImportView> {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 25))) {
      const res = await view(id);
      expect(res.status).toBe(200);
      const body = (await res.json()) as ImportView;
      if (body.status !== "running") return body;
    }
    throw new Error("the import did not finish");
  }
  const importCount = async () => (await t.database.db.select({ n: count() }).from(imports))[0]!.n;
  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; details?: unknown } }).error;

  it("accepts a CSV with 202 and an id, then reports the outcome with each bad row's number", async () => {
    const id = tag();
    const csv = ["First Name,Last Name,E-mail Address,Company", `Ann,Lee,ann.${id}@x.example,Acme`, "Bob,Ray,not-an-email,", `,,,`, `Cy,"Ng,cy.${id}@x.example,`].join("\n");
    const res = await post("kind=contacts&fileName=people.csv", csv);
    expect(res.status).toBe(202);
    const { importId } = (await res.json()) as { importId: string };
    expect(res.headers.get("location")).toBe(`/api/imports/${importId}`);
    const done = await finished(importId);
    expect(done).toMatchObject({
      id: importId,
      kind: "contacts",
      status: "done",
      fileName: "people.csv",
      total: 4,
      processed: 4,
      created: 1,
      updated: 0,
      errors: [
        { row: 2, error: "email: must be an email address" },
        { row: 4, error: "a quote is not closed" },
      ],
      errorsNotListed: 0,
      failure: null,
      mapping: { "First Name": "firstName", "Last Name": "lastName", "E-mail Address": "email", Company: "company" },
    });
  });

  it("takes an explicit column map", async () => {
    const id = tag();
    const map = encodeURIComponent(JSON.stringify({ Courriel: "email", Prénom: "firstName", Title: "ignore" }));
    const res = await post(`kind=contacts&map=${map}`, `Courriel,Prénom,Title\nz.${id}@x.example,Zoé,Boss\n`);
    expect(res.status).toBe(202);
    const done = await finished(((await res.json()) as { importId: string }).importId);
    expect(done).toMatchObject({ status: "done", created: 1, mapping: { Courriel: "email", Prénom: "firstName", Title: "ignore" } });
  });

  it("shows imported leads on the board as they are committed", async () => {
    const id = tag();
    const socket = connectSocket(server.url, cookie);
    sockets.push(socket);
    const events = collectEvents(socket);
    await waitForConnect(socket);
    const joined = await request<BoardSnapshot>(socket, "board:join", {});
    expect(joined.ok).toBe(true);
    const csv = ["Email,Topic,Company", `l1.${id}@x.example,Pricing,Acme ${id}`, `,Renewal,Globex ${id}`, `bad,,`].join("\n");
    const res = await post("kind=leads", csv);
    expect(res.status).toBe(202);
    const done = await finished(((await res.json()) as { importId: string }).importId);
    expect(done).toMatchObject({ status: "done", created: 2, errors: [{ row: 3, error: "email: must be an email address" }] });
    await until(() => events.filter((e) => e.type === "lead.created").length >= 2);
    const created = events.filter((e) => e.type === "lead.created");
    expect(created.map((e) => e.lead.topic)).toEqual(["Pricing", "Renewal"]);
    expect(created[0]!.actor).toMatchObject({ kind: "user", name: "Test marketer" });
  });

  it("accepts a header-only file as an import of nothing", async () => {
    const res = await post("kind=leads", "Email,Topic\r\n");
    expect(res.status).toBe(202);
    expect(await finished(((await res.json()) as { importId: string }).importId)).toMatchObject({ status: "done", total: 0, processed: 0 });
  });

  it.each([
    ["the wrong content type", "kind=contacts", "Email\na@x.example\n", "text/plain", "Send the file as text/csv"],
    ["an empty file", "kind=contacts", "", "text/csv", "The file is empty: it needs a header row naming the columns"],
    ["a header without an identifying column", "kind=contacts", "Notes,Phone\nx,1\n", "text/csv", "The header row cannot be imported"],
    ["duplicate headers", "kind=leads", "Email,Topic,Email\n", "text/csv", "The header row cannot be imported"],
    ["an unknown column in the map", `kind=contacts&map=${encodeURIComponent('{"Mail":"email"}')}`, "Email\n", "text/csv", "The header row cannot be imported"],
    ["an unknown field in the map", `kind=contacts&map=${encodeURIComponent('{"Email":"fax"}')}`, "Email\n", "text/csv", "The header row cannot be imported"],
    ["a map that is not JSON", "kind=contacts&map=email", "Email\n", "text/csv", "The input is not valid"],
    ["a missing kind", "", "Email\n", "text/csv", "The input is not valid"],
    ["an unknown kind", "kind=deals", "Email\n", "text/csv", "The input is not valid"],
    ["another charset", "kind=contacts", "Email\n", "text/csv; charset=latin1", "Send the file encoded as UTF-8"],
  ])("refuses %s with 400 INVALID_INPUT and writes nothing", async (_name, query, body, type, message) => {
    const before = await importCount();
    const res = await post(query, body, type);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "INVALID_INPUT", message });
    expect(await importCount()).toBe(before);
  });

  it("refuses a declared length over 50 MB with 413 before reading it", async () => {
    const before = await importCount();
    const { status, body } = await rawPost(
      `${server.url}/api/imports?kind=contacts`,
      { cookie, "content-type": "text/csv", "content-length": fiftyMb + 1 },
      (req) => req.write("Email\na@x.example\n"),
    );
    expect(status).toBe(413);
    expect(JSON.parse(body)).toEqual({ error: { code: "PAYLOAD_TOO_LARGE", message: "The file is larger than 50 MB" } });
    expect(await importCount()).toBe(before);
  });

  it("fails a streamed upload that passes 50 MB, keeping the rows committed before", async () => {
    const id = tag();
    // Wide rows (an ignored 60 KB column) reach the limit in some 900 rows.
    const note = "n".repeat(60_000);
    const { status, body } = await rawPost(`${server.url}/api/imports?kind=contacts`, { cookie, "content-type": "text/csv" }, (req) => {
      req.write("Email,Notes\n");
      let i = 0;
      const more = () => {
        while (i < 1_000) {
          if (!req.write(`w${i++}.${id}@x.example,${note}\n`)) return void req.once("drain", more);
        }
        req.end();
      };
      more();
      req.on("error", () => {}); // the server cuts the upload off at the limit
    });
    expect(status).toBe(202);
    const done = await finished((JSON.parse(body) as { importId: string }).importId);
    expect(done.status).toBe("failed");
    expect(done.failure).toMatch(/^The file is larger than 50 MB; \d+ rows were imported$/);
    expect(done.processed).toBeGreaterThan(0);
    expect(done.created).toBe(done.processed);
  }, 60_000);

  it("sends the id at once, ends the answer with the upload, and fails an import whose upload is cut off", async () => {
    const id = tag();
    // The 202 and its body come while the client is still sending; the answer ends with the upload.
    const { status, first, req, res } = await new Promise<{ status: number; first: string; req: http.ClientRequest; res: http.IncomingMessage }>(
      (resolve, reject) => {
        const req = http.request(`${server.url}/api/imports?kind=contacts`, { method: "POST", headers: { cookie, "content-type": "text/csv" } }, (res) => {
          res.setEncoding("utf8");
          res.once("data", (first: string) => resolve({ status: res.statusCode!, first, req, res }));
        });
        req.on("error", reject);
        req.write(`Email\nc1.${id}@x.example\n`);
      },
    );
    expect(status).toBe(202);
    expect(res.complete).toBe(false);
    const { importId } = JSON.parse(first) as { importId: string };
    expect(res.headers.location).toBe(`/api/imports/${importId}`);
    req.on("error", () => {});
    res.on("error", () => {});
    req.destroy();
    const done = await finished(importId);
    expect(done).toMatchObject({ status: "failed", processed: 1, created: 1, failure: "The upload was interrupted; 1 rows were imported" });
  });

  it("answers 401 without a session and 403 to a viewer, for posting and for reading", async () => {
    const res = await post("kind=contacts", "Email\n", "text/csv", "");
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toEqual({ code: "UNAUTHENTICATED", message: "Sign in first" });
    const forbidden = await post("kind=contacts", "Email\n", "text/csv", viewerCookie);
    expect(forbidden.status).toBe(403);
    expect((await errorOf(forbidden)).code).toBe("FORBIDDEN");

    const accepted = await post("kind=contacts", "Email\n");
    const { importId } = (await accepted.json()) as { importId: string };
    await finished(importId);
    const anonymous = await fetch(`${server.url}/api/imports/${importId}`);
    expect(anonymous.status).toBe(401);
    expect((await errorOf(anonymous)).code).toBe("UNAUTHENTICATED");
    const viewer = await view(importId, viewerCookie);
    expect(viewer.status).toBe(403);
    expect((await errorOf(viewer)).code).toBe("FORBIDDEN");
  });

  it("answers 404 for an unknown import and 400 for a malformed id", async () => {
    const missing = await view("7f1e7c1e-2b4e-4c55-9d0a-1a2b3c4d5e6f");
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toEqual({ code: "NOT_FOUND", message: "No such import" });
    const malformed = await view("nope");
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).code).toBe("INVALID_INPUT");
  });
});
