import { and, asc, eq, isNull, lt, or } from "drizzle-orm";
import { apiKeys } from "../../drizzle/schema.ts";
import type { Executor } from "../db/client.ts";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export async function insertApiKey(
  db: Executor,
  key: { name: string; keyHash: string; prefix: string; scopes: string[]; createdBy: string | null },
  now: Date,
): Promise<ApiKeyRow> {
  const rows = await db
    .insert(apiKeys)
    .values({ ...key, createdAt: now })
    .returning();
  return rows[0]!;
}

export async function listApiKeys(db: Executor): Promise<ApiKeyRow[]> {
  return db.select().from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
}

export async function findApiKey(db: Executor, id: string): Promise<ApiKeyRow | undefined> {
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return rows[0];
}

/** The key with this hash, unless it was revoked. */
export async function findActiveApiKeyByHash(db: Executor, keyHash: string): Promise<ApiKeyRow | undefined> {
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
  return rows[0];
}

/** Undefined when there is no such key or it was already revoked. */
export async function revokeApiKey(db: Executor, id: string, now: Date): Promise<ApiKeyRow | undefined> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  return rows[0];
}

/** Records a use unless one was recorded after `notAfter` (by any server node). */
export async function touchApiKey(db: Executor, id: string, now: Date, notAfter: Date): Promise<void> {
  await db
    .update(apiKeys)
    .set({ lastUsedAt: now })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, notAfter))));
}
