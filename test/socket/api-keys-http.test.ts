import { createHash } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys } from "../../drizzle/schema.ts";
import type { ApiKeyView } from "../../shared/schemas/api-keys.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeUser } from "../support/builders.ts";
import { io as connect } from "socket.io-client";
import { login, startTestServer, type TestServer } from "../support/server.ts";

type ErrorAck = { ok: false; error: { code: string } };

interface ErrorJson {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}
interface Created {
  key: string;
  apiKey: ApiKeyView;
}

describe.each(drivers)("API keys over HTTP on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let adminId: string;
  let cookie: string;
  let marketerCookie: string;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const admin = await makeUser(server.app.services.auth, "admin");
    const marketer = await makeUser(server.app.services.auth, "marketer");
    adminId = admin.user.id;
    cookie = await login(server.url, admin.user.email);
    marketerCookie = await login(server.url, marketer.user.email);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const api = (path: string, init: RequestInit & { json?: unknown; as?: string | null; bearer?: string } = {}) =>
    fetch(`${server.url}/api${path}`, {
      ...init,
      headers: {
        "content-type": "application/json",
        ...(init.as === null ? {} : { cookie: init.as ?? cookie }),
        ...(init.bearer === undefined ? {} : { authorization: `Bearer ${init.bearer}` }),
      },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  const keyCount = async () => (await t.database.db.select({ n: count() }).from(apiKeys))[0]!.n;
  const createKey = async (name: string, scopes = ["ingest"]) => {
    const res = await api("/api-keys", { method: "POST", json: { name, scopes } });
    expect(res.status).toBe(201);
    return (await res.json()) as Created;
  };

  it("lets an admin create a key that is shown once and stored only as a hash", async () => {
    const res = await api("/api-keys", { method: "POST", json: { name: "  Website tracker ", scopes: ["ingest", "read"] } });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { key, apiKey } = (await res.json()) as Created;
    expect(key).toMatch(/^lpk_[\w-]{43}$/);
    expect(apiKey).toEqual({
      id: expect.any(String),
      name: "Website tracker",
      prefix: key.slice(0, 12),
      scopes: ["ingest", "read"],
      createdAt: expect.any(String),
      lastUsedAt: null,
      revokedAt: null,
      createdBy: adminId,
    });

    const listed = await api("/api-keys");
    expect(listed.status).toBe(200);
    const body = await listed.text();
    expect(body).not.toContain(key);
    expect(JSON.parse(body)).toEqual({ apiKeys: expect.arrayContaining([apiKey]) });

    const [row] = await t.database.db.select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(JSON.stringify(row)).not.toContain(key);
    expect(row!.keyHash).toBe(createHash("sha256").update(key).digest("base64url"));
    expect(row!.prefix).toBe(key.slice(0, 12));
  });

  it("refuses people who are not admins, and creates nothing", async () => {
    const before = await keyCount();
    const created = await api("/api-keys", { method: "POST", as: marketerCookie, json: { name: "Mine", scopes: ["read"] } });
    expect(created.status).toBe(403);
    expect(((await created.json()) as ErrorJson).error.code).toBe("FORBIDDEN");
    expect((await api("/api-keys", { as: marketerCookie })).status).toBe(403);
    expect((await api("/api-keys", { as: null })).status).toBe(401);
    expect(await keyCount()).toBe(before);
  });

  it.each([
    ["no name", { scopes: ["ingest"] }, "name"],
    ["a blank name", { name: "   ", scopes: ["ingest"] }, "name"],
    ["a name too long", { name: "x".repeat(121), scopes: ["ingest"] }, "name"],
    ["no scopes", { name: "Tracker" }, "scopes"],
    ["empty scopes", { name: "Tracker", scopes: [] }, "scopes"],
    ["an unknown scope", { name: "Tracker", scopes: ["ingest", "admin"] }, "scopes.1"],
    ["a repeated scope", { name: "Tracker", scopes: ["read", "read"] }, "scopes"],
    ["an extra field", { name: "Tracker", scopes: ["read"], role: "admin" }, "(body)"],
  ])("rejects %s with INVALID_INPUT and creates nothing", async (_case, json, field) => {
    const before = await keyCount();
    const res = await api("/api-keys", { method: "POST", json });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorJson;
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.details?.map((d) => d.field)).toContain(field);
    expect(await keyCount()).toBe(before);
  });

  it("authenticates a bearer key as the key, never as a person", async () => {
    const { key } = await createKey("Bearer check");
    // Authenticated (not 401), but a key is no admin: it may not manage keys.
    const listed = await api("/api-keys", { as: null, bearer: key });
    expect(listed.status).toBe(403);
    // Even with an admin's session cookie sent along, the key decides.
    const mixed = await api("/api-keys", { bearer: key });
    expect(mixed.status).toBe(403);
    const before = await keyCount();
    const made = await api("/api-keys", { method: "POST", as: null, bearer: key, json: { name: "Escalate", scopes: ["write"] } });
    expect(made.status).toBe(403);
    expect(await keyCount()).toBe(before);
    // Who am I: the key, with its scopes, and no person, even with a session cookie sent along.
    const me = await api("/me", { bearer: key });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user: null, apiKey: { name: 'API key "Bearer check"', scopes: ["ingest"] } });
  });

  it("answers 401 to an unknown or empty bearer token, even with a valid session", async () => {
    for (const bearer of ["lpk_not-a-real-key", ""]) {
      const res = await api("/api-keys", { bearer });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      expect(((await res.json()) as ErrorJson).error).toEqual({
        code: "UNAUTHENTICATED",
        message: "The API key is unknown or revoked",
      });
    }
  });

  it("revokes a key: it stops working at once, and revoking again changes nothing", async () => {
    const { key, apiKey } = await createKey("To revoke");
    expect((await api("/api-keys", { as: null, bearer: key })).status).toBe(403);

    const revoked = await api(`/api-keys/${apiKey.id}`, { method: "DELETE" });
    expect(revoked.status).toBe(200);
    const first = ((await revoked.json()) as { apiKey: ApiKeyView }).apiKey;
    expect(first).toEqual({ ...apiKey, lastUsedAt: expect.any(String), revokedAt: expect.any(String) });

    const bearerRes = await api("/api-keys", { as: null, bearer: key });
    expect(bearerRes.status).toBe(401);
    expect(((await bearerRes.json()) as ErrorJson).error.code).toBe("UNAUTHENTICATED");

    const again = await api(`/api-keys/${apiKey.id}`, { method: "DELETE" });
    expect(again.status).toBe(200);
    expect(((await again.json()) as { apiKey: ApiKeyView }).apiKey).toEqual(first);

    const listed = (await (await api("/api-keys")).json()) as { apiKeys: ApiKeyView[] };
    expect(listed.apiKeys.find((k) => k.id === apiKey.id)).toEqual(first);
  });

  it("a key's socket reads the board, may not share presence, and is ended at once when the key is revoked", async () => {
    const { key, apiKey } = await createKey("Board reader", ["read"]);
    const socket = connect(server.url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { token: key } });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("connect_error", reject);
    });
    const ended: unknown[] = [];
    socket.on("session:ended", (info) => ended.push(info));
    const joined = (await socket.emitWithAck("board:join", {})) as { ok: boolean; data: { boardId: string } };
    expect(joined.ok).toBe(true);
    const presence = (await socket.emitWithAck("presence:set", { boardId: joined.data.boardId, activity: null })) as ErrorAck;
    expect(presence).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
    const disconnected = new Promise<string>((resolve) => socket.once("disconnect", (reason) => resolve(reason)));
    expect((await api(`/api-keys/${apiKey.id}`, { method: "DELETE" })).status).toBe(200);
    expect(await disconnected).toBe("io server disconnect");
    expect(ended).toEqual([{ reason: "key_revoked" }]);
    const again = connect(server.url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { token: key } });
    const refused = await new Promise<Error>((resolve) => again.once("connect_error", resolve));
    expect(refused.message).toBe("UNAUTHENTICATED");
    again.close();
    socket.close();
  });

  it("answers 404 for an unknown key and 400 for a malformed id; non-admins may not revoke", async () => {
    const missing = await api("/api-keys/7f1e7c1e-2b4e-4c55-9d0a-1a2b3c4d5e6f", { method: "DELETE" });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorJson).error.code).toBe("NOT_FOUND");
    expect((await api("/api-keys/nope", { method: "DELETE" })).status).toBe(400);

    const { key, apiKey } = await createKey("Kept");
    expect((await api(`/api-keys/${apiKey.id}`, { method: "DELETE", as: marketerCookie })).status).toBe(403);
    expect((await api(`/api-keys/${apiKey.id}`, { method: "DELETE", as: null, bearer: key })).status).toBe(403);
    const [row] = await t.database.db.select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(row!.revokedAt).toBeNull();
  });

  it("leaves other authorization schemes to the session", async () => {
    const res = await fetch(`${server.url}/api/api-keys`, { headers: { cookie, authorization: "Basic Zm9vOmJhcg==" } });
    expect(res.status).toBe(200);
  });
});
