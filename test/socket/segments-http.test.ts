import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertAccount } from "../../server/repositories/contacts.ts";
import type { SegmentDetail, SegmentView } from "../../server/services/segment-service.ts";
import type { SegmentResolution } from "../../server/repositories/segments.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeContact, makeUser } from "../support/builders.ts";
import { login, startTestServer, type TestServer } from "../support/server.ts";

interface ErrorJson {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}

describe.each(drivers)("segments over HTTP on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let cookie: string;
  let viewerCookie: string;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const admin = await makeUser(server.app.services.auth, "admin");
    const viewer = await makeUser(server.app.services.auth, "viewer");
    cookie = await login(server.url, admin.user.email);
    viewerCookie = await login(server.url, viewer.user.email);
    const db = t.database.db;
    const acme = await insertAccount(db, { name: "Acme", country: "FR" });
    await makeContact(db, { firstName: "Ada", lastName: "Lovelace", accountId: acme.id, country: "FR" });
    await makeContact(db, { firstName: "Brian", lastName: "Kernighan", accountId: acme.id, country: "US" });
    await makeContact(db, { firstName: "Carol", lastName: "Shaw", country: "FR" });
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const api = (path: string, init: RequestInit & { json?: unknown; as?: string } = {}) =>
    fetch(`${server.url}/api${path}`, {
      ...init,
      headers: { cookie: init.as ?? cookie, "content-type": "application/json" },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  const listIds = async () => ((await (await api("/segments")).json()) as SegmentView[]).map((s) => s.id);

  const french = { from: "contacts", where: [{ field: "country", op: "eq", value: "FR" }] };
  const acmePeople = { from: "accounts", where: [{ field: "name", op: "eq", value: "Acme" }] };

  it("creates, lists, reads, edits and deletes a segment", async () => {
    const created = await api("/segments", { method: "POST", json: { name: "  French contacts ", query: french } });
    expect(created.status).toBe(201);
    const segment = (await created.json()) as SegmentView;
    expect(segment).toEqual({
      id: expect.any(String),
      name: "French contacts",
      query: { ...french, match: "all" },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(await listIds()).toContain(segment.id);
    const read = (await (await api(`/segments/${segment.id}`)).json()) as SegmentDetail;
    expect(read).toEqual({ ...segment, count: 2 });

    const renamed = await api(`/segments/${segment.id}`, { method: "PATCH", json: { name: "Acme people" } });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({ name: "Acme people", query: { from: "contacts" } });
    const requeried = await api(`/segments/${segment.id}`, { method: "PATCH", json: { query: acmePeople } });
    expect(((await requeried.json()) as SegmentView).query).toEqual({ ...acmePeople, match: "all" });
    expect(((await (await api(`/segments/${segment.id}`)).json()) as SegmentDetail).count).toBe(2);

    const deleted = await api(`/segments/${segment.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect((await api(`/segments/${segment.id}`)).status).toBe(404);
    expect(await listIds()).not.toContain(segment.id);
  });

  it("pages members with limit and offset, 50 by default", async () => {
    const created = (await (await api("/segments", { method: "POST", json: { name: "Everyone", query: { from: "contacts", where: [] } } })).json()) as SegmentView;
    const page = async (query: string) => (await (await api(`/segments/${created.id}/members${query}`)).json()) as SegmentResolution;
    const whole = await page("");
    expect(whole.count).toBe(3);
    expect(whole.members.map((m) => m.lastName)).toEqual(["Kernighan", "Lovelace", "Shaw"]);
    expect(whole.members[0]).toEqual({ id: expect.any(String), email: expect.any(String), firstName: "Brian", lastName: "Kernighan", accountId: expect.any(String), accountName: "Acme" });
    expect(await page("?limit=1&offset=1")).toMatchObject({ count: 3, members: [{ lastName: "Lovelace" }] });
    expect((await page("?limit=2&offset=2")).members.map((m) => m.lastName)).toEqual(["Shaw"]);
    for (const [query, field] of [["?limit=501", "limit"], ["?limit=0", "limit"], ["?limit=ten", "limit"], ["?offset=-1", "offset"]] as const) {
      const res = await api(`/segments/${created.id}/members${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorJson).error.details?.map((d) => d.field)).toEqual([field]);
    }
  });

  it("previews a query as it is edited, saving nothing", async () => {
    const before = await listIds();
    const res = await api("/segments/preview", { method: "POST", json: { query: acmePeople } });
    expect(res.status).toBe(200);
    const preview = (await res.json()) as SegmentResolution;
    expect(preview.count).toBe(2);
    expect(preview.members.map((m) => [m.lastName, m.accountName])).toEqual([["Kernighan", "Acme"], ["Lovelace", "Acme"]]);
    const any = await api("/segments/preview", {
      method: "POST",
      json: { query: { from: "contacts", match: "any", where: [{ field: "lastName", op: "eq", value: "Shaw" }, { field: "country", op: "eq", value: "US" }] } },
    });
    expect(((await any.json()) as SegmentResolution).count).toBe(2);
    expect(await listIds()).toEqual(before);
  });

  it.each([
    ["an unknown field", { name: "X", query: { from: "accounts", where: [{ field: "email", op: "eq", value: "a" }] } }, "query.where.0.field"],
    ["an op that does not fit", { name: "X", query: { from: "leads", where: [{ field: "salesReady", op: "gt", value: true }] } }, "query.where.0.op"],
    ["an empty in", { name: "X", query: { from: "contacts", where: [{ field: "country", op: "in", value: [] }] } }, "query.where.0.value"],
    ["an unknown stage key", { name: "X", query: { from: "leads", where: [{ field: "stage", op: "eq", value: "won" }] } }, "query.where.0.value"],
    ["a blank name", { name: " ", query: french }, "name"],
    ["no query", { name: "X" }, "query"],
    ["an extra field", { name: "X", query: french, owner: "me" }, "(body)"],
  ])("rejects %s with INVALID_INPUT and creates nothing", async (_name, body, field) => {
    const before = await listIds();
    const res = await api("/segments", { method: "POST", json: body });
    expect(res.status).toBe(400);
    const json = (await res.json()) as ErrorJson;
    expect(json.error.code).toBe("INVALID_INPUT");
    expect(json.error.details?.map((d) => d.field)).toEqual([field]);
    expect(json.error.details?.[0]?.message).toEqual(expect.any(String));
    expect(await listIds()).toEqual(before);
  });

  it("rejects bad edits and previews with INVALID_INPUT, changing nothing", async () => {
    const created = (await (await api("/segments", { method: "POST", json: { name: "Stable", query: french } })).json()) as SegmentView;
    const empty = await api(`/segments/${created.id}`, { method: "PATCH", json: {} });
    expect(empty.status).toBe(400);
    const bad = await api(`/segments/${created.id}`, { method: "PATCH", json: { name: "Changed", query: { from: "contacts", where: [{ field: "x", op: "eq", value: 1 }] } } });
    expect(((await bad.json()) as ErrorJson).error.details?.map((d) => d.field)).toEqual(["query.where.0.field"]);
    expect(await (await api(`/segments/${created.id}`)).json()).toMatchObject({ name: "Stable", updatedAt: created.updatedAt });
    const preview = await api("/segments/preview", { method: "POST", json: { query: { from: "deals", where: [] } } });
    expect(preview.status).toBe(400);
    expect(((await preview.json()) as ErrorJson).error.details?.map((d) => d.field)).toEqual(["query.from"]);
  });

  it("answers unknown segments with NOT_FOUND and malformed ids with INVALID_INPUT", async () => {
    const unknown = crypto.randomUUID();
    for (const [method, path, json] of [
      ["GET", `/segments/${unknown}`, undefined],
      ["PATCH", `/segments/${unknown}`, { name: "X" }],
      ["DELETE", `/segments/${unknown}`, undefined],
      ["GET", `/segments/${unknown}/members`, undefined],
    ] as const) {
      const res = await api(path, { method, json });
      expect(res.status).toBe(404);
      expect(((await res.json()) as ErrorJson).error).toEqual({ code: "NOT_FOUND", message: "No such segment" });
    }
    expect((await api("/segments/not-an-id")).status).toBe(400);
  });

  it("lets viewers read and preview but not edit, and anonymous callers nothing", async () => {
    const created = (await (await api("/segments", { method: "POST", json: { name: "Shared", query: french } })).json()) as SegmentView;
    expect((await api("/segments", { as: viewerCookie })).status).toBe(200);
    expect((await api(`/segments/${created.id}/members`, { as: viewerCookie })).status).toBe(200);
    expect((await api("/segments/preview", { method: "POST", json: { query: french }, as: viewerCookie })).status).toBe(200);
    const forbidden = await api("/segments", { method: "POST", json: { name: "Mine", query: french }, as: viewerCookie });
    expect(forbidden.status).toBe(403);
    expect((await api(`/segments/${created.id}`, { method: "DELETE", as: viewerCookie })).status).toBe(403);
    for (const [method, path] of [["GET", "/segments"], ["POST", "/segments"], ["POST", "/segments/preview"], ["GET", `/segments/${created.id}`], ["GET", `/segments/${created.id}/members`]]) {
      const res = await fetch(`${server.url}/api${path}`, { method, headers: { "content-type": "application/json" }, body: method === "POST" ? "{}" : undefined });
      expect(res.status).toBe(401);
      expect(((await res.json()) as ErrorJson).error.code).toBe("UNAUTHENTICATED");
    }
  });
});
