import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../server/app.ts";
import { makeUser, silentLogger } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { collectEvents, connectSocket, login, request, until, waitForConnect } from "../support/server.ts";

type Json = Record<string, unknown>;

describe.each(drivers)("lead generation over HTTP on %s", (driver) => {
  let t: TestDatabase;
  let url: string;
  let close: () => Promise<void>;
  let cookie: string;
  let viewerCookie: string;
  let serial = 0;
  const email = () => `http.${Date.now().toString(36)}${++serial}@intake.example`;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    const app = await createApp({
      database: t.database,
      logger: silentLogger,
      publicIntake: { corsOrigins: ["https://partner.example"], perMinute: 1000 },
    });
    url = (await app.listen(0, "127.0.0.1")).url;
    close = () => app.close();
    const admin = await makeUser(app.services.auth, "admin");
    const viewer = await makeUser(app.services.auth, "viewer");
    cookie = await login(url, admin.user.email);
    viewerCookie = await login(url, viewer.user.email);
  });
  afterAll(async () => {
    await close?.();
    await t?.close();
  });

  async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${url}/api${path}`, {
      method,
      headers: { cookie, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: (text && res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text) as Json };
  }
  const publicPost = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${url}/api${path}`, { method: "POST", headers, body });

  async function newForm(extra: Json = {}) {
    const res = await api("POST", "/forms", { name: "Webinar sign-up", campaign: "Webinars", ...extra });
    expect(res.status).toBe(201);
    return res.json as { id: string; honeypotField: string };
  }

  it("accepts a JSON submission without a session: 201, then 200 when it only updates", async () => {
    const form = await newForm();
    const address = email();
    const first = await publicPost(`/forms/${form.id}/submissions`, JSON.stringify({ email: address, firstName: "Jo" }), {
      "content-type": "application/json",
    });
    expect(first.status).toBe(201);
    const body = (await first.json()) as Json;
    expect(body).toEqual({ contactId: expect.any(String), leadId: expect.any(String), created: { contact: true, lead: true } });
    const second = await publicPost(`/forms/${form.id}/submissions`, JSON.stringify({ email: address, lastName: "Doe" }), {
      "content-type": "application/json",
    });
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ ...body, created: { contact: false, lead: false } });
  });

  it("accepts a plain HTML form post (urlencoded) and answers a browser with a page", async () => {
    const form = await newForm();
    const res = await publicPost(
      `/forms/${form.id}/submissions`,
      new URLSearchParams({ email: email(), firstName: "Plain", utm_source: "newsletter" }).toString(),
      { "content-type": "application/x-www-form-urlencoded", accept: "text/html,application/xhtml+xml" },
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toContain("text/html");
    const page = await res.text();
    expect(page).toContain("Thank you");
    // Its one style is allowed by hash and nothing else is: no inline style attribute, no script.
    const policy = res.headers.get("content-security-policy") ?? "";
    expect(policy).toMatch(/default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
    const style = /<style>(.*?)<\/style>/.exec(page)?.[1] ?? "";
    const { createHash } = await import("node:crypto");
    expect(policy).toContain(`'sha256-${createHash("sha256").update(style).digest("base64")}'`);
    expect(page).not.toMatch(/ style=|<script/);
  });

  it("shows a new lead from a submission on an open board", async () => {
    const form = await newForm();
    const socket = connectSocket(url, cookie);
    const events = collectEvents(socket);
    await waitForConnect(socket);
    await request(socket, "board:join", {});
    const res = await publicPost(`/forms/${form.id}/submissions`, JSON.stringify({ email: email(), firstName: "Live" }), {
      "content-type": "application/json",
    });
    const { leadId } = (await res.json()) as { leadId: string };
    await until(() => events.some((e) => e.type === "lead.created" && e.lead.id === leadId));
    socket.disconnect();
  });

  it("honours Idempotency-Key: the retry answers the first result", async () => {
    const form = await newForm();
    const headers = { "content-type": "application/json", "idempotency-key": "abc-123" };
    const body = JSON.stringify({ email: email() });
    const first = await publicPost(`/forms/${form.id}/submissions`, body, headers);
    const retry = await publicPost(`/forms/${form.id}/submissions`, body, headers);
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(await retry.json()).toEqual(await first.json());
    const bad = await publicPost(`/forms/${form.id}/submissions`, body, { ...headers, "idempotency-key": "x".repeat(300) });
    expect(bad.status).toBe(400);
  });

  it.each([
    ["a missing email", JSON.stringify({ firstName: "No" }), "application/json", 400, "INVALID_INPUT"],
    ["an invalid email", JSON.stringify({ email: "nope" }), "application/json", 400, "INVALID_INPUT"],
    ["malformed JSON", "{oops", "application/json", 400, "INVALID_INPUT"],
    ["a wrong content type", "email=a@b.example", "text/plain", 400, "INVALID_INPUT"],
    ["a JSON array", "[1,2]", "application/json", 400, "INVALID_INPUT"],
    ["an oversized body", JSON.stringify({ email: "a@b.example", topic: "x".repeat(1_100_000) }), "application/json", 413, "PAYLOAD_TOO_LARGE"],
  ])("answers %s with a clear error", async (_name, body, type, status, code) => {
    const form = await newForm();
    const res = await publicPost(`/forms/${form.id}/submissions`, body, { "content-type": type });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it("answers an unknown form with NOT_FOUND and a malformed id with INVALID_INPUT", async () => {
    const headers = { "content-type": "application/json" };
    expect((await publicPost(`/forms/${crypto.randomUUID()}/submissions`, JSON.stringify({ email: email() }), headers)).status).toBe(404);
    expect((await publicPost(`/forms/not-a-form/submissions`, JSON.stringify({ email: email() }), headers)).status).toBe(400);
  });

  it("allows CORS from the form's own origins and the configured ones, and from nobody else", async () => {
    const form = await newForm({ allowedOrigins: ["https://www.shop.example"] });
    const preflight = (origin: string) =>
      fetch(`${url}/api/forms/${form.id}/submissions`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
    const own = await preflight("https://www.shop.example");
    expect(own.status).toBe(204);
    expect(own.headers.get("access-control-allow-origin")).toBe("https://www.shop.example");
    expect((await preflight("https://partner.example")).headers.get("access-control-allow-origin")).toBe("https://partner.example");
    expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
  });

  it("gives every form a copy-paste HTML snippet with its honeypot", async () => {
    const form = await newForm();
    const res = await api("GET", `/forms/${form.id}/snippet`);
    expect(res.status).toBe(200);
    const html = String(res.json);
    expect(html).toContain(`action="${url}/api/forms/${form.id}/submissions"`);
    expect(html).toContain('name="email"');
    expect(html).toContain(`name="${form.honeypotField}"`);
  });

  it("registers for events publicly and checks people in (staff only)", async () => {
    const event = (await api("POST", "/events", { name: "Summit", startsAt: "2026-12-01T09:00:00+01:00" })).json as { id: string };
    const address = email();
    const reg = await publicPost(`/events/${event.id}/registrations`, JSON.stringify({ email: address }), { "content-type": "application/json" });
    expect(reg.status).toBe(201);
    const checkIn = await api("POST", `/events/${event.id}/check-ins`, { email: address });
    expect(checkIn.status).toBe(200);
    const anonymous = await fetch(`${url}/api/events/${event.id}/check-ins`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: address }),
    });
    expect(anonymous.status).toBe(401);
    expect((await api("POST", "/events", { name: "Bad date", startsAt: "next tuesday" })).status).toBe(400);
  });

  it("syncs LinkedIn lead responses idempotently, keeping test leads apart", async () => {
    const definition = {
      id: 987654,
      name: "Whitepaper on LinkedIn",
      content: {
        questions: [
          { questionId: 1, predefinedField: "EMAIL" },
          { questionId: 2, predefinedField: "FIRST_NAME" },
          { questionId: 3, predefinedField: "COMPANY_NAME" },
          { questionId: 4, name: "Why are you interested?" },
        ],
      },
      state: "PUBLISHED",
    };
    expect((await api("POST", "/integrations/linkedin/forms", definition)).status).toBe(201);
    const response = (id: string, address: string, extra: Json = {}) => ({
      id,
      submittedAt: 1795300000000,
      leadType: "SPONSORED",
      testLead: false,
      versionedLeadGenFormUrn: "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:987654,3)",
      leadMetadata: { sponsoredLeadMetadata: { campaign: "urn:li:sponsoredCampaign:555" } },
      formResponse: {
        answers: [
          { questionId: 1, answerDetails: { textQuestionAnswer: { answer: address } } },
          { questionId: 2, answerDetails: { textQuestionAnswer: { answer: "Lin" } } },
          { questionId: 3, answerDetails: { textQuestionAnswer: { answer: "Linked Co" } } },
          { questionId: 4, answerDetails: { textQuestionAnswer: { answer: "Curious" } } },
        ],
      },
      ...extra,
    });
    const address = email();
    const batch = [
      response("r-1", address),
      response("r-2", email(), { testLead: true }),
      { id: "r-3" },
      response("r-4", email(), { versionedLeadGenFormUrn: "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:111,1)" }),
    ];
    const first = await api("POST", "/integrations/linkedin/lead-responses", batch);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ created: 2, updated: 0, skipped: 0 });
    expect((first.json.errors as Array<{ index: number }>).map((e) => e.index)).toEqual([2, 3]);
    expect(JSON.stringify(first.json.errors)).toContain("unknown lead form 111");
    const again = await api("POST", "/integrations/linkedin/lead-responses", batch.slice(0, 2));
    expect(again.json).toMatchObject({ created: 0, updated: 0, skipped: 2, errors: [] });
    const leads = (await api("GET", `/leads?q=${encodeURIComponent("Whitepaper on LinkedIn")}`)).json as unknown as Array<Json>;
    expect(leads).toHaveLength(2);
    expect(leads.map((l) => [l.source, l.isTest]).sort()).toEqual([
      ["linkedin", false],
      ["linkedin", true],
    ]);
    expect((await api("POST", "/integrations/linkedin/lead-responses", [])).status).toBe(400);
  });

  it("creates, finds (search as you type) and edits contacts and accounts", async () => {
    const account = (await api("POST", "/accounts", { name: "Searchable Industries", employeeCount: 40 })).json as { id: string };
    const contact = await api("POST", "/contacts", { email: email(), firstName: "Sally", lastName: "Searcher", accountId: account.id });
    expect(contact.status).toBe(201);
    const found = (await api("GET", "/contacts?q=searchable")).json as unknown as Array<Json>;
    expect(found.map((c) => c.accountName)).toContain("Searchable Industries");
    expect(((await api("GET", "/accounts?q=SEARCHABLE")).json as unknown as Json[]).length).toBe(1);
    const patched = await api("PATCH", `/contacts/${(contact.json as { id: string }).id}`, { jobTitle: "CTO" });
    expect(patched.json).toMatchObject({ jobTitle: "CTO", firstName: "Sally" });
    expect((await api("POST", "/contacts", { email: "bad" })).status).toBe(400);
    expect((await api("POST", "/contacts", { email: email(), accountId: crypto.randomUUID() })).status).toBe(400);
    expect((await api("GET", `/contacts/${crypto.randomUUID()}`)).status).toBe(404);
    const byViewer = await api("POST", "/accounts", { name: "Nope" }, { cookie: viewerCookie });
    expect(byViewer.status).toBe(403);
  });

  it("links a parent to an unscorable lead by PATCH, which the board sees", async () => {
    const lead = (await api("POST", "/leads", { topic: "Orphan" })).json as { id: string; version: number; scorable: boolean };
    expect(lead.scorable).toBe(false);
    const contact = (await api("POST", "/contacts", { email: email(), firstName: "Parent" })).json as { id: string };
    const linked = await api("PATCH", `/leads/${lead.id}`, { expectedVersion: lead.version, contactId: contact.id });
    expect(linked.json).toMatchObject({ scorable: true, contactName: "Parent", version: lead.version + 1 });
    const stale = await api("PATCH", `/leads/${lead.id}`, { expectedVersion: lead.version, topic: "Late" });
    expect(stale.status).toBe(409);
    const detail = (await api("GET", `/leads/${lead.id}`)).json as { history: Array<Json> };
    expect(detail.history.at(-1)).toMatchObject({ kind: "field", field: "contactId", toValue: contact.id });
  });

  it("manages matching strategies with a message per bad field", async () => {
    const bad = await api("POST", "/matching-strategies", { name: "Bad", entity: "contact", fields: ["email", "shoeSize", "email"] });
    expect(bad.status).toBe(400);
    const fields = (bad.json.error as { details: Array<{ field: string }> }).details.map((d) => d.field);
    expect(fields).toEqual(["fields.1", "fields"]);
    const ok = await api("POST", "/matching-strategies", { name: "By phone", entity: "contact", fields: ["phone"] });
    expect(ok.status).toBe(201);
    expect(((await api("GET", "/matching-strategies")).json as unknown as Json[]).map((s) => s.name)).toContain("By phone");
  });
});

describe("rate limits on public endpoints", () => {
  it("answers 429 RATE_LIMITED with Retry-After past the limit", async () => {
    const t = await openTestDatabase("pglite");
    const app = await createApp({ database: t.database, logger: silentLogger, publicIntake: { corsOrigins: [], perMinute: 3 } });
    const { url } = await app.listen(0, "127.0.0.1");
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${url}/api/forms/${crypto.randomUUID()}/submissions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: "x@y.example" }),
        });
        statuses.push(res.status);
        if (res.status === 429) {
          expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
        }
      }
      expect(statuses).toEqual([404, 404, 404, 429, 429]);
    } finally {
      await app.close();
      await t.close();
    }
  });
});
