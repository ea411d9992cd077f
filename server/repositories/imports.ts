import { and, eq, sql } from "drizzle-orm";
import { imports } from "../../drizzle/schema.ts";
import type { Executor } from "../db/client.ts";

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
