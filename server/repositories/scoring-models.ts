import { asc, eq } from "drizzle-orm";
import { scoringModels } from "../../drizzle/schema.ts";
import type { Executor, Tx } from "../db/client.ts";

export type ModelRow = typeof scoringModels.$inferSelect;

export async function listModels(db: Executor): Promise<ModelRow[]> {
  return db.select().from(scoringModels).orderBy(asc(scoringModels.createdAt), asc(scoringModels.id));
}

export async function findModel(db: Executor, id: string): Promise<ModelRow | undefined> {
  const rows = await db.select().from(scoringModels).where(eq(scoringModels.id, id));
  return rows[0];
}

export async function lockModel(tx: Tx, id: string): Promise<ModelRow | undefined> {
  const rows = await tx.select().from(scoringModels).where(eq(scoringModels.id, id)).for("update");
  return rows[0];
}

/** Live models in a stable order: the order cards list their scores in. */
export async function liveModels(db: Executor): Promise<ModelRow[]> {
  return db
    .select()
    .from(scoringModels)
    .where(eq(scoringModels.status, "live"))
    .orderBy(asc(scoringModels.createdAt), asc(scoringModels.id));
}

export async function insertModel(tx: Executor, model: typeof scoringModels.$inferInsert): Promise<ModelRow> {
  const rows = await tx.insert(scoringModels).values(model).returning();
  return rows[0]!;
}

export async function updateModel(tx: Executor, id: string, changes: Partial<typeof scoringModels.$inferInsert>): Promise<ModelRow> {
  const rows = await tx.update(scoringModels).set(changes).where(eq(scoringModels.id, id)).returning();
  return rows[0]!;
}

/** Models whose background rescore was interrupted (a restart): they resume where they were. */
export async function runningRescores(db: Executor): Promise<ModelRow[]> {
  return db.select().from(scoringModels).where(eq(scoringModels.rescoreStatus, "running"));
}

/** While a model's rescore runs, leads above its cursor keep their old score until the rescore reaches them. */
export function awaitsRescore(model: Pick<ModelRow, "rescoreStatus" | "rescoreMode" | "rescoreCursor">, leadId: string): boolean {
  return model.rescoreStatus === "running" && model.rescoreMode === "score" && leadId > (model.rescoreCursor ?? "");
}
