import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys } from "../../drizzle/schema.ts";
import type { Actor } from "../../server/services/actor.ts";
import { ApiKeyService, requireScope } from "../../server/services/api-key-service.ts";
import { AuthService } from "../../server/services/auth-service.ts";
import { DomainError } from "../../shared/errors.ts";
import type { ApiKeyScope } from "../../shared/schemas/api-keys.ts";
import { rejection } from "../support/assertions.ts";
import { makeUser } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";

const keyActor = (scopes: ApiKeyScope[]): Actor => ({ id: null, name: 'API key "k"', kind: "api", role: "viewer", scopes });

describe("requireScope", () => {
  it.each<[string, Actor, ApiKeyScope, boolean]>([
    ["a key with the scope", keyActor(["ingest", "read"]), "ingest", true],
    ["a key without the scope", keyActor(["read"]), "ingest", false],
    ["an admin (a person, not a key)", { id: "u", name: "Ada", kind: "user", role: "admin" }, "ingest", false],
    ["the system", { id: null, name: "simulator", kind: "system", role: "admin" }, "read", false],
    ["a person who carries scopes by mistake", { id: "u", name: "Ada", kind: "user", role: "admin", scopes: ["read"] }, "read", false],
  ])("%s", (_case, actor, scope, allowed) => {
    const check = () => requireScope(actor, scope);
    if (allowed) expect(check).not.toThrow();
    else expect(check).toThrow(expect.objectContaining({ code: "FORBIDDEN" }) as DomainError);
  });
});

describe.each(drivers)("API keys on %s", (driver) => {
  let t: TestDatabase;
  let service: ApiKeyService;
  let admin: Actor;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    service = new ApiKeyService(t.database.db);
    admin = (await makeUser(new AuthService(t.database.db), "admin")).actor;
  });
  afterAll(async () => {
    await t?.close();
  });

  const at = (seconds: number) => new Date(Date.UTC(2025, 0, 1, 9, 0, seconds));
  const lastUsedAt = async (id: string) =>
    (await t.database.db.select().from(apiKeys).where(eq(apiKeys.id, id)))[0]!.lastUsedAt?.toISOString() ?? null;

  it("authenticates a live key as an API actor with its scopes and the viewer role", async () => {
    const { key, apiKey } = await service.create(admin, { name: "Tracker", scopes: ["ingest", "read"] }, at(0));
    expect(await service.authenticate(key, at(1))).toEqual({
      id: null,
      name: 'API key "Tracker"',
      kind: "api",
      role: "viewer",
      scopes: ["ingest", "read"],
      apiKeyId: apiKey.id,
    });
    expect(await service.authenticate(`${key}x`, at(1))).toBeUndefined();
    expect(await service.authenticate(apiKey.prefix, at(1))).toBeUndefined();
  });

  it("records the last use at most once a minute", async () => {
    const { key, apiKey } = await service.create(admin, { name: "Busy", scopes: ["ingest"] }, at(0));
    await service.authenticate(key, at(10));
    expect(await lastUsedAt(apiKey.id)).toBe(at(10).toISOString());
    await service.authenticate(key, at(69));
    expect(await lastUsedAt(apiKey.id)).toBe(at(10).toISOString());
    await service.authenticate(key, at(71));
    expect(await lastUsedAt(apiKey.id)).toBe(at(71).toISOString());
  });

  it("no longer authenticates a revoked key; revoking is idempotent", async () => {
    const { key, apiKey } = await service.create(admin, { name: "Old", scopes: ["write"] }, at(0));
    const first = await service.revoke(admin, apiKey.id, at(5));
    expect(first.revokedAt).toBe(at(5).toISOString());
    expect(await service.authenticate(key, at(6))).toBeUndefined();
    expect(await service.revoke(admin, apiKey.id, at(9))).toEqual(first);
  });

  it("keeps key management to admins", async () => {
    const { key } = await service.create(admin, { name: "Any", scopes: ["read"] }, at(0));
    const asKey = (await service.authenticate(key, at(1)))!;
    for (const attempt of [
      service.create(asKey, { name: "More", scopes: ["write"] }, at(2)),
      service.list(asKey),
      service.revoke(asKey, "7f1e7c1e-2b4e-4c55-9d0a-1a2b3c4d5e6f", at(2)),
    ]) {
      expect((await rejection(attempt)).code).toBe("FORBIDDEN");
    }
    expect((await rejection(service.revoke(admin, "7f1e7c1e-2b4e-4c55-9d0a-1a2b3c4d5e6f", at(2)))).code).toBe("NOT_FOUND");
  });
});
