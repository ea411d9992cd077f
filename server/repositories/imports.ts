import { and, eq, lt, sql } from "drizzle-orm";
import { imports } from "../../drizzle/schema.ts";
import { anyId, type Executor } from "../db/client.ts";

export type ImportRow = typeof imports.$inferSelect;
export type NewImport = typeof imports.$inferInsert;

export async function insertImport(db: Executor, values: NewImport): Promise<ImportRow> {
  const rows = await db.insert(imports).values(values).returning();
  return rows[0]!;
}

export async function findImport(db: Executor, id: string): Promise<ImportRow | undefined> {
  const rows = await db.select().from(imports).where(eq(imports.id, id));
  return rows[0];
}

export interface ImportProgress {
  total: number;
  processed: number;
  created: number;
  updated: number;
  /** Written only when it changed: the list is capped, so most batches leave it alone. */
  errors?: ImportRow["errors"];
  /** Set with the last batch, in its transaction. */
  done?: { at: Date };
}

/**
 * Records a committed batch's progress, in the batch's transaction. Only a running import
 * moves on: undefined means it was marked failed meanwhile (by a restarting node), and the
 * caller must roll the batch back so the counts and the rows keep agreeing.
 */
export async function recordProgress(db: Executor, id: string, progress: ImportProgress): Promise<ImportRow | undefined> {
  const rows = await db
    .update(imports)
    .set({
      total: progress.total,
      processed: progress.processed,
      created: progress.created,
      updated: progress.updated,
      ...(progress.errors ? { errors: progress.errors } : {}),
      ...(progress.done ? { status: "done" as const, finishedAt: progress.done.at } : {}),
      // A committed batch is a sign of life too (the database's clock: nodes' clocks may differ).
      heartbeatAt: sql`now()`,
    })
    .where(and(eq(imports.id, id), eq(imports.status, "running")))
    .returning();
  return rows[0];
}

/** Ends a running import as failed; its committed batches stay. */
export async function markImportFailed(
  db: Executor,
  id: string,
  failure: string,
  at: Date,
  counts: { total?: number; errors?: ImportRow["errors"] } = {},
): Promise<ImportRow | undefined> {
  const rows = await db
    .update(imports)
    .set({ status: "failed", failure, finishedAt: at, ...counts })
    .where(and(eq(imports.id, id), eq(imports.status, "running")))
    .returning();
  return rows[0];
}

/** Every import still running (left so by a process that stopped) becomes failed, saying how far it got. */
export async function failRunningImports(db: Executor, at: Date): Promise<ImportRow[]> {
  return db
    .update(imports)
    .set({
      status: "failed",
      failure: sql`'the server stopped during the import; ' || ${imports.processed} || ' rows were imported'`,
      finishedAt: at,
    })
    .where(eq(imports.status, "running"))
    .returning();
}

/**
 * Renews the heartbeat of these running imports (the database's clock). Answers the ids
 * renewed: one missing is no longer running (another node marked it failed).
 */
export async function renewHeartbeats(db: Executor, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .update(imports)
    .set({ heartbeatAt: sql`now()` })
    .where(and(anyId(imports.id, ids), eq(imports.status, "running")))
    .returning({ id: imports.id });
  return new Set(rows.map((r) => r.id));
}

/** Running imports whose heartbeat is older than `staleMs` by the database's clock: their node stopped. */
export async function findStaleImports(db: Executor, staleMs: number) {
  return db
    .select({ id: imports.id, kind: imports.kind, leadStrategyId: imports.leadStrategyId })
    .from(imports)
    .where(and(eq(imports.status, "running"), lt(imports.heartbeatAt, sql`now() - ${staleMs}::int * interval '1 millisecond'`)));
}

/**
 * Fails one stale import, if it is still running and still stale (its node may have come
 * back meanwhile). The failure reads `before`, the committed row count, then `after`.
 */
export async function failStaleImport(
  db: Executor,
  id: string,
  staleMs: number,
  failure: { before: string; after: string },
  at: Date,
): Promise<ImportRow | undefined> {
  const rows = await db
    .update(imports)
    .set({
      status: "failed",
      failure: sql`${failure.before} || ${imports.processed} || ${failure.after}`,
      finishedAt: at,
    })
    .where(
      and(
        eq(imports.id, id),
        eq(imports.status, "running"),
        lt(imports.heartbeatAt, sql`now() - ${staleMs}::int * interval '1 millisecond'`),
      ),
    )
    .returning();
  return rows[0];
}
