import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LeadDetail } from "../../shared/board.ts";
import type { Actor } from "../../server/services/actor.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeLead, makeUser, testPassword } from "../support/builders.ts";
import { login, startTestServer, type TestServer } from "../support/server.ts";

describe.each(drivers)("the HTTP API on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  let adminEmail: string;
  let cookie: string;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const a = await makeUser(server.app.services.auth, "admin");
    admin = a.actor;
    adminEmail = a.user.email;
    cookie = await login(server.url, adminEmail);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const api = (path: string, init: RequestInit & { json?: unknown; raw?: string; type?: string } = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { cookie, "content-type": init.type ?? "application/json", ...(init.headers ?? {}) },
      body: init.raw ?? (init.json === undefined ? undefined : JSON.stringify(init.json)),
    });

  it("reports health with the database kind, and Prometheus metrics", async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", database: driver });
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    const text = await metrics.text();
    expect(text).toContain("# TYPE board_events_delivered_total counter");
    expect(text).toContain("process_cpu_user_seconds_total");
  });

  it("logs in with a session cookie that is httpOnly and SameSite=Lax, and logs out", async () => {
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: adminEmail.toUpperCase(), password: testPassword }),
    });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^lpb_session=[\w-]{20,};/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const session = setCookie.split(";")[0]!;
    const me = await fetch(`${server.url}/api/me`, { headers: { cookie: session } });
    expect(await me.json()).toMatchObject({ user: { email: adminEmail, role: "admin" } });
    const out = await fetch(`${server.url}/api/auth/logout`, { method: "POST", headers: { cookie: session } });
    expect(out.status).toBe(204);
    const after = await fetch(`${server.url}/api/me`, { headers: { cookie: session } });
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ error: { code: "UNAUTHENTICATED", message: "Sign in first" } });
  });

  it.each([
    ["a wrong password", { email: "x", password: "wrong" }],
    ["an unknown email", { email: "nobody@test.example", password: testPassword }],
  ])("answers %s with 401 and the same message", async (_name, body) => {
    const payload = body.email === "x" ? { ...body, email: adminEmail } : body;
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "UNAUTHENTICATED", message: "Email or password is wrong" } });
  });

  it.each([
    ["malformed JSON", { raw: "{oops" }, undefined],
    ["an unknown field", { json: { topic: "A", colour: "red" } }, "(body)"],
    ["a wrong type", { json: { topic: 42 } }, "topic"],
    ["an empty topic", { json: { topic: "  " } }, "topic"],
    ["a bad contact id", { json: { topic: "A", contactId: "123" } }, "contactId"],
  ])("rejects %s with INVALID_INPUT and creates nothing", async (_name, body, field) => {
    const before = (await server.app.services.boards.snapshot((await server.app.services.boards.resolveBoard(admin, {})).id, new Date())).seq;
    const res = await api("/api/leads", { method: "POST", ...body });
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: { code: string; details?: Array<{ field: string }> } };
    expect(json.error.code).toBe("INVALID_INPUT");
    if (field) expect(json.error.details?.map((d) => d.field)).toContain(field);
    const after = (await server.app.services.boards.snapshot((await server.app.services.boards.resolveBoard(admin, {})).id, new Date())).seq;
    expect(after).toBe(before);
  });

  it("rejects a body over the limit with PAYLOAD_TOO_LARGE", async () => {
    const res = await api("/api/leads", { method: "POST", raw: JSON.stringify({ topic: "x".repeat(2_000_000) }) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  it("creates, reads and moves a lead; the lead answers in the contract's shape", async () => {
    const created = await api("/api/leads", { method: "POST", json: { topic: "Pricing enquiry" } });
    expect(created.status).toBe(201);
    const lead = (await created.json()) as { id: string; version: number };
    const moved = await api(`/api/leads/${lead.id}/move`, {
      method: "POST",
      json: { toStage: "sales_acceptance", expectedVersion: 1 },
    });
    expect(moved.status).toBe(409);
    expect(await moved.json()).toMatchObject({ error: { code: "ILLEGAL_TRANSITION", details: { missing: ["has_parent"] } } });
    const card = await makeLead(t.database.db, server.app.services.leads, admin);
    const ok = await api(`/api/leads/${card.id}/move`, {
      method: "POST",
      json: { toStage: "automated_marketing_qualification", expectedVersion: 1 },
    });
    expect(ok.status).toBe(200);
    const stale = await api(`/api/leads/${card.id}/move`, { method: "POST", json: { toStage: "inquiry", expectedVersion: 1 } });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe("CONFLICT");
    const detail = (await (await api(`/api/leads/${card.id}`)).json()) as LeadDetail;
    expect(detail).toMatchObject({
      id: card.id,
      stage: "automated_marketing_qualification",
      version: 2,
      salesReady: false,
      scorable: true,
      ownerId: null,
      scores: [],
    });
    expect(detail.history.map((h) => h.toStage)).toEqual(["inquiry", "automated_marketing_qualification"]);
    expect(detail.processId).toEqual(expect.any(String));
    expect(detail.rank).toEqual(expect.any(String));
  });

  it("answers unknown leads and endpoints with NOT_FOUND, and anonymous requests with UNAUTHENTICATED", async () => {
    expect((await api(`/api/leads/${crypto.randomUUID()}`)).status).toBe(404);
    expect(((await (await api("/api/nothing-here")).json()) as { error: { code: string } }).error.code).toBe("NOT_FOUND");
    const anon = await fetch(`${server.url}/api/leads`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(anon.status).toBe(401);
  });
});
