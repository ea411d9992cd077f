import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { idempotencyKeys, matchingStrategies, matchKeys } from "../../drizzle/schema.ts";
import type { MatchEntity, MatchField } from "../../shared/domain/matching.ts";
import { queryRows, type Executor, type Tx } from "../db/client.ts";

export interface Strategy {
  id: string;
  name: string;
  entity: MatchEntity;
  fields: MatchField[];
  isDefault: boolean;
}

const strategyColumns = {
  id: matchingStrategies.id,
  name: matchingStrategies.name,
  entity: matchingStrategies.entity,
  fields: matchingStrategies.fields,
  isDefault: matchingStrategies.isDefault,
};

export async function listStrategies(db: Executor, entity?: MatchEntity): Promise<Strategy[]> {
  const rows = await db
    .select(strategyColumns)
    .from(matchingStrategies)
    .where(entity ? eq(matchingStrategies.entity, entity) : undefined)
    .orderBy(asc(matchingStrategies.entity), asc(matchingStrategies.createdAt));
  return rows as Strategy[];
}

export async function insertStrategy(db: Executor, strategy: Omit<Strategy, "id" | "isDefault">): Promise<Strategy> {
  const rows = await db.insert(matchingStrategies).values(strategy).returning(strategyColumns);
  return rows[0] as Strategy;
}

/** Makes `id` the default of its entity (one default per entity, enforced by a partial unique index). */
export async function setDefaultStrategy(tx: Tx, strategy: Strategy): Promise<void> {
  await tx
    .update(matchingStrategies)
    .set({ isDefault: false })
    .where(and(eq(matchingStrategies.entity, strategy.entity), eq(matchingStrategies.isDefault, true)));
  await tx.update(matchingStrategies).set({ isDefault: true }).where(eq(matchingStrategies.id, strategy.id));
}

/**
 * Claims `key` for `recordId` under a strategy, or finds who holds it. On PostgreSQL a
 * concurrent claim of the same key waits for the first transaction and then sees its row.
 */
export async function claimKey(tx: Tx, strategyId: string, key: string, recordId: string): Promise<string> {
  const inserted = await tx
    .insert(matchKeys)
    .values({ strategyId, key, recordId })
    .onConflictDoNothing()
    .returning({ recordId: matchKeys.recordId });
  if (inserted[0]) return inserted[0].recordId;
  const rows = await tx
    .select({ recordId: matchKeys.recordId })
    .from(matchKeys)
    .where(and(eq(matchKeys.strategyId, strategyId), eq(matchKeys.key, key)));
  if (!rows[0]) throw new Error("a conflicting match key vanished; the transaction will be retried");
  return rows[0].recordId;
}

/** Points a key at another record (its record was closed or deleted). */
export async function repointKey(tx: Tx, strategyId: string, key: string, recordId: string): Promise<void> {
  await tx
    .update(matchKeys)
    .set({ recordId })
    .where(and(eq(matchKeys.strategyId, strategyId), eq(matchKeys.key, key)));
}

/** Registers keys that are free; a key already held by another record stays with it. */
export async function registerKeys(
  db: Executor,
  entries: Array<{ strategyId: string; key: string; recordId: string }>,
): Promise<void> {
  if (entries.length === 0) return;
  // One JSON parameter: an import registers thousands at once, and building SQL per value costs more than the insert.
  await db.execute(sql`
    insert into match_keys (strategy_id, key, record_id)
    select x.strategy_id, x.key, x.record_id
    from jsonb_to_recordset(${JSON.stringify(entries.map((e) => ({ strategy_id: e.strategyId, key: e.key, record_id: e.recordId })))}::jsonb)
      as x(strategy_id uuid, key text, record_id uuid)
    on conflict do nothing`);
}

export async function deleteKeysOfRecord(db: Executor, recordId: string, strategyIds: string[]): Promise<void> {
  if (strategyIds.length === 0) return;
  await db.delete(matchKeys).where(and(eq(matchKeys.recordId, recordId), inArray(matchKeys.strategyId, strategyIds)));
}

/**
 * Claims an Idempotency-Key inside the caller's transaction. Returns the stored answer
 * when the key was used before (a concurrent first use is waited for), else undefined.
 */
export async function claimIdempotencyKey(
  tx: Tx,
  scope: string,
  key: string,
): Promise<{ status: number; response: unknown } | undefined> {
  const inserted = await tx
    .insert(idempotencyKeys)
    .values({ scope, key, status: 0, response: {} })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted[0]) return undefined;
  const rows = await tx
    .select({ status: idempotencyKeys.status, response: idempotencyKeys.response })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
  return rows[0];
}

export async function storeIdempotentResponse(
  tx: Tx,
  scope: string,
  key: string,
  status: number,
  response: unknown,
): Promise<void> {
  await tx
    .update(idempotencyKeys)
    .set({ status, response })
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
}

/** Serialises find-or-create of one account name across concurrent transactions. */
export async function lockName(tx: Tx, namespace: string, name: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`${namespace}:${name.trim().toLowerCase()}`}))`);
}

/**
 * `claimKey` for many keys of one strategy in two statements: each key is claimed for its
 * record, or its holder found. Keys go in sorted order, so two batches claiming overlapping
 * keys wait for each other instead of deadlocking.
 */
export async function claimKeys(
  tx: Tx,
  strategyId: string,
  entries: ReadonlyArray<{ key: string; recordId: string }>,
): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  if (entries.length === 0) return owners;
  const sorted = [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const inserted = await queryRows<{ key: string; record_id: string }>(
    tx,
    sql`insert into match_keys (strategy_id, key, record_id)
      select ${strategyId}::uuid, x.key, x.record_id from jsonb_to_recordset(${JSON.stringify(sorted.map((e) => ({ key: e.key, record_id: e.recordId })))}::jsonb)
        as x(key text, record_id uuid)
      on conflict do nothing returning key, record_id`,
  );
  for (const row of inserted) owners.set(row.key, row.record_id);
  const taken = sorted.filter((e) => !owners.has(e.key)).map((e) => e.key);
  if (taken.length === 0) return owners;
  const held = await queryRows<{ key: string; record_id: string }>(
    tx,
    sql`select key, record_id from match_keys where strategy_id = ${strategyId}::uuid and key in (select jsonb_array_elements_text(${JSON.stringify(taken)}::jsonb))`,
  );
  for (const row of held) owners.set(row.key, row.record_id);
  if (owners.size < entries.length) throw new Error("a conflicting match key vanished; the transaction will be retried");
  return owners;
}

/** `repointKey` for many keys of one strategy. */
export async function repointKeys(tx: Tx, strategyId: string, entries: ReadonlyArray<{ key: string; recordId: string }>): Promise<void> {
  if (entries.length === 0) return;
  await tx.execute(sql`
    update match_keys m set record_id = x.record_id
    from jsonb_to_recordset(${JSON.stringify(entries.map((e) => ({ key: e.key, record_id: e.recordId })))}::jsonb) as x(key text, record_id uuid)
    where m.strategy_id = ${strategyId}::uuid and m.key = x.key`);
}

/** `lockName` for many names in one statement, in a fixed order (no deadlock between two batches). */
export async function lockNames(tx: Tx, namespace: string, names: readonly string[]): Promise<void> {
  const keys = [...new Set(names.map((name) => `${namespace}:${name.trim().toLowerCase()}`))].sort();
  if (keys.length === 0) return;
  await tx.execute(
    sql`select pg_advisory_xact_lock(hashtext(k)) from (select jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb) as k order by 1) as names`,
  );
}
