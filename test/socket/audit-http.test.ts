import { count } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLog } from "../../drizzle/schema.ts";
import type { ApiKeyView } from "../../shared/schemas/api-keys.ts";
import type { AuditEntry, AuditPage } from "../../shared/schemas/audit.ts";
import type { UserCreated, UserView } from "../../shared/schemas/users.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeUser } from "../support/builders.ts";
import { login, startTestServer, type TestServer } from "../support/server.ts";

interface ErrorJson {
  error: { code: string; message: string };
}

const password = "a long enough passphrase";
let serial = 0;
const email = (tag: string) => `${tag}.${Date.now().toString(36)}${++serial}@audit.example`;

describe.each(drivers)("the audit log over HTTP on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: { id: string; name: string };
  let adminCookie: string;
  let marketerCookie: string;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const a = await makeUser(server.app.services.auth, "admin", "Ada Admin");
    const m = await makeUser(server.app.services.auth, "marketer");
    admin = { id: a.user.id, name: a.user.name };
    adminCookie = await login(server.url, a.user.email);
    marketerCookie = await login(server.url, m.user.email);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const api = (path: string, init: { method?: string; json?: unknown; as?: string | null } = {}) =>
    fetch(`${server.url}/api${path}`, {
      method: init.method ?? "GET",
      headers: { "content-type": "application/json", ...(init.as === null ? {} : { cookie: init.as ?? adminCookie }) },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  async function ok<T>(res: Promise<Response>, status = 200): Promise<T> {
    const r = await res;
    expect(r.status, await r.clone().text()).toBe(status);
    return (await r.json()) as T;
  }
  const page = (query = "") => ok<AuditPage>(api(`/audit${query}`));
  const auditCount = async () => (await t.database.db.select({ n: count() }).from(auditLog))[0]!.n;
  /** Entries written after `marker` (an entry id, or none for all), newest first. */
  async function entriesSince(marker: string | undefined): Promise<AuditEntry[]> {
    const { entries } = await page("?limit=200");
    const end = marker ? entries.findIndex((e) => e.id === marker) : entries.length;
    return entries.slice(0, end);
  }
  const newest = async () => (await page("?limit=1")).entries[0]?.id;

  it("records each administration action in order, naming who and what, and never a secret", async () => {
    const marker = await newest();
    const direct = await ok<UserCreated>(
      api("/users", { method: "POST", json: { email: email("direct"), name: "Dee Direct", role: "viewer", password } }),
      201,
    );
    const invited = await ok<UserCreated>(
      api("/users", { method: "POST", json: { email: email("inv"), name: "Ivy", role: "viewer" } }),
      201,
    );
    const renewed = await ok<UserCreated>(api(`/users/${invited.user.id}/invite`, { method: "POST" }));
    const token = renewed.inviteUrl!.split("/").pop()!;
    await ok(api("/auth/accept-invite", { method: "POST", as: null, json: { token, password } }));
    const patch = (id: string, json: unknown) => ok<{ user: UserView }>(api(`/users/${id}`, { method: "PATCH", json }));
    await patch(direct.user.id, { role: "sales_manager" });
    await patch(direct.user.id, { name: "Dee Renamed" });
    await patch(direct.user.id, { active: false });
    await patch(direct.user.id, { active: true });
    const { key, apiKey } = await ok<{ key: string; apiKey: ApiKeyView }>(
      api("/api-keys", { method: "POST", json: { name: "Tracker", scopes: ["ingest", "read"] } }),
      201,
    );
    await ok(api(`/api-keys/${apiKey.id}`, { method: "DELETE" }));
    // Revoking again changes nothing, so it records nothing.
    await ok(api(`/api-keys/${apiKey.id}`, { method: "DELETE" }));

    const entries = (await entriesSince(marker)).reverse();
    const byAdmin = { id: admin.id, name: admin.name, kind: "user" };
    const dee = (name: string) => ({ type: "user", id: direct.user.id, name });
    const ivy = { type: "user", id: invited.user.id, name: "Ivy" };
    const expected = [
      [byAdmin, "user.created", dee("Dee Direct"), { email: direct.user.email, role: "viewer", invited: false }],
      [byAdmin, "user.created", ivy, { email: invited.user.email, role: "viewer", invited: true }],
      [byAdmin, "user.invited", ivy, { expiresAt: expect.any(String) }],
      [byAdmin, "user.invited", ivy, { expiresAt: expect.any(String), renewed: true }],
      [{ id: invited.user.id, name: "Ivy", kind: "user" }, "user.invite_accepted", ivy, {}],
      [byAdmin, "user.role_changed", dee("Dee Direct"), { from: "viewer", to: "sales_manager" }],
      [byAdmin, "user.renamed", dee("Dee Renamed"), { from: "Dee Direct", to: "Dee Renamed" }],
      [byAdmin, "user.deactivated", dee("Dee Renamed"), { sessionsEnded: 0 }],
      [byAdmin, "user.reactivated", dee("Dee Renamed"), {}],
      [byAdmin, "api_key.created", { type: "api_key", id: apiKey.id, name: "Tracker" }, { scopes: ["ingest", "read"] }],
      [byAdmin, "api_key.revoked", { type: "api_key", id: apiKey.id, name: "Tracker" }, {}],
    ].map(([actor, action, target, details]) => ({
      id: expect.any(String),
      at: expect.any(String),
      actor,
      action,
      target,
      details,
    }));
    expect(entries).toEqual(expected);

    const text = JSON.stringify(entries);
    for (const secret of [password, key, token, renewed.inviteUrl!, invited.inviteUrl!.split("/").pop()!]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/scrypt/);
  });

  it("pages newest first with before and limit", async () => {
    for (const name of ["Page One", "Page Two", "Page Three", "Page Four", "Page Five"]) {
      await ok(api("/users", { method: "POST", json: { email: email("page"), name, role: "viewer", password } }), 201);
    }
    const all = (await page("?limit=200")).entries;
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(all.slice(0, 5).map((e) => e.target.name)).toEqual(["Page Five", "Page Four", "Page Three", "Page Two", "Page One"]);

    const walked: AuditEntry[] = [];
    let before: string | undefined;
    for (;;) {
      const next = await page(`?limit=2${before ? `&before=${before}` : ""}`);
      expect(next.entries.length).toBeLessThanOrEqual(2);
      walked.push(...next.entries);
      if (!next.nextBefore) break;
      expect(next.nextBefore).toBe(next.entries.at(-1)!.id);
      before = next.nextBefore;
    }
    expect(walked).toEqual(all);
    // A cursor that names no entry answers an empty page rather than starting over.
    expect(await page("?before=7f1e7c1e-2b4e-4c55-9d0a-1a2b3c4d5e6f")).toEqual({ entries: [] });
  });

  it("filters by action and by actor", async () => {
    const { user } = await ok<UserCreated>(
      api("/users", { method: "POST", json: { email: email("filter"), name: "Fil", role: "viewer", password } }),
      201,
    );
    await ok(api(`/users/${user.id}`, { method: "PATCH", json: { role: "marketer" } }));
    await ok(api(`/users/${user.id}`, { method: "PATCH", json: { role: "telemarketer" } }));

    const changes = await page("?action=user.role_changed&limit=200");
    expect(changes.entries.length).toBeGreaterThanOrEqual(2);
    expect(new Set(changes.entries.map((e) => e.action))).toEqual(new Set(["user.role_changed"]));
    expect(changes.entries.slice(0, 2).map((e) => e.details)).toEqual([
      { from: "marketer", to: "telemarketer" },
      { from: "viewer", to: "marketer" },
    ]);

    const mine = await page(`?actorId=${admin.id}&limit=200`);
    expect(mine.entries.length).toBeGreaterThan(0);
    expect(mine.entries.every((e) => e.actor.id === admin.id)).toBe(true);
    const nobody = await page(`?actorId=${user.id}`);
    expect(nobody).toEqual({ entries: [] });
    const both = await page(`?actorId=${admin.id}&action=user.role_changed&limit=1`);
    expect(both.entries).toEqual([changes.entries[0]]);
    expect(both.nextBefore).toBe(changes.entries[0]!.id);
  });

  it("writes nothing for a refused or failed action, nor for a change that changes nothing", async () => {
    const { user } = await ok<UserCreated>(
      api("/users", { method: "POST", json: { email: email("keep"), name: "Kept", role: "viewer", password } }),
      201,
    );
    const { apiKey } = await ok<{ apiKey: ApiKeyView }>(
      api("/api-keys", { method: "POST", json: { name: "Kept", scopes: ["read"] } }),
      201,
    );
    const before = await auditCount();
    const refusals: Array<[number, () => Promise<Response>]> = [
      [
        403,
        () => api("/users", { method: "POST", as: marketerCookie, json: { email: email("no"), name: "No", role: "admin", password } }),
      ],
      [403, () => api(`/users/${user.id}`, { method: "PATCH", as: marketerCookie, json: { role: "admin" } })],
      [403, () => api(`/api-keys/${apiKey.id}`, { method: "DELETE", as: marketerCookie })],
      [403, () => api("/api-keys", { method: "POST", as: marketerCookie, json: { name: "No", scopes: ["read"] } })],
      [409, () => api("/users", { method: "POST", json: { email: user.email, name: "Again", role: "viewer" } })],
      [400, () => api("/users", { method: "POST", json: { email: email("bad"), name: "Bad", role: "root" } })],
      [409, () => api(`/users/${admin.id}`, { method: "PATCH", json: { active: false } })],
      [409, () => api(`/users/${user.id}/invite`, { method: "POST" })],
      [404, () => api("/auth/accept-invite", { method: "POST", as: null, json: { token: "y".repeat(43), password } })],
      [200, () => api(`/users/${user.id}`, { method: "PATCH", json: { role: "viewer", name: "Kept", active: true } })],
    ];
    for (const [status, call] of refusals) expect((await call()).status).toBe(status);
    expect(await auditCount()).toBe(before);
  });

  it("is for admins only, and its query is validated", async () => {
    const forbidden = await api("/audit", { as: marketerCookie });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as ErrorJson).error.code).toBe("FORBIDDEN");
    expect((await api("/audit", { as: null })).status).toBe(401);
    const badQueries = [
      "limit=0",
      "limit=201",
      "limit=two",
      "action=user.exploded",
      "actorId=me",
      "before=1",
      "sort=asc",
      "limit=1&limit=2",
    ];
    for (const query of badQueries) {
      const res = await api(`/audit?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as ErrorJson).error.code).toBe("INVALID_INPUT");
    }
    expect((await page()).entries.length).toBeLessThanOrEqual(50);
  });
});
