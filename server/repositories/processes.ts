import { and, asc, eq, inArray, notInArray, sql } from "drizzle-orm";
import { boards, leads, processes, stages } from "../../drizzle/schema.ts";
import type { StageTimeLimits } from "../../shared/domain/stage-age.ts";
import type { LeadFlag, RequirementKey, StageField } from "../../shared/domain/stages.ts";
import type { Executor, Tx } from "../db/client.ts";
import type { LeadRow } from "./leads.ts";

export type ProcessRow = typeof processes.$inferSelect;

export interface ProcessWithBoard extends ProcessRow {
  boardId: string;
}

export interface StageValues {
  key: string;
  name: string;
  position: number;
  entryRequirements: RequirementKey[];
  fields: StageField[];
  gateFlag: LeadFlag | null;
  salesReadyJump: boolean;
  timeLimits: StageTimeLimits | null;
}

/**
 * Stages store their limits in minutes (warn: amber, alert: red); the API speaks hours.
 * A check constraint keeps both set or both null, red after amber.
 */
export function timeLimitsFromMinutes(warnMinutes: number | null, alertMinutes: number | null): StageTimeLimits | null {
  if (warnMinutes === null || alertMinutes === null) return null;
  return { amberAfterHours: warnMinutes / 60, redAfterHours: alertMinutes / 60 };
}

function stageColumns({ timeLimits, ...values }: StageValues) {
  return {
    ...values,
    warnAfterMinutes: timeLimits ? timeLimits.amberAfterHours * 60 : null,
    alertAfterMinutes: timeLimits ? timeLimits.redAfterHours * 60 : null,
  };
}

const processColumns = {
  id: processes.id,
  name: processes.name,
  isDefault: processes.isDefault,
  conversionRequirements: processes.conversionRequirements,
  version: processes.version,
  createdAt: processes.createdAt,
  updatedAt: processes.updatedAt,
  boardId: boards.id,
};

/** Every process with its board, the default first, then by name. */
export async function listProcesses(db: Executor): Promise<ProcessWithBoard[]> {
  return db
    .select(processColumns)
    .from(processes)
    .innerJoin(boards, eq(boards.processId, processes.id))
    .orderBy(sql`${processes.isDefault} desc`, asc(processes.name), asc(processes.id));
}

export async function findProcess(db: Executor, processId: string): Promise<ProcessWithBoard | undefined> {
  const rows = await db
    .select(processColumns)
    .from(processes)
    .innerJoin(boards, eq(boards.processId, processes.id))
    .where(eq(processes.id, processId));
  return rows[0];
}

/** Serialises edits of one process until the transaction ends. */
export async function lockProcess(tx: Tx, processId: string): Promise<ProcessWithBoard | undefined> {
  const rows = await tx
    .select(processColumns)
    .from(processes)
    .innerJoin(boards, eq(boards.processId, processes.id))
    .where(eq(processes.id, processId))
    .for("update", { of: processes });
  return rows[0];
}

export async function insertProcess(
  tx: Tx,
  process: { name: string; conversionRequirements?: RequirementKey[]; now: Date },
): Promise<{ processId: string; boardId: string }> {
  const [row] = await tx
    .insert(processes)
    .values({
      name: process.name,
      ...(process.conversionRequirements ? { conversionRequirements: process.conversionRequirements } : {}),
      createdAt: process.now,
      updatedAt: process.now,
    })
    .returning({ id: processes.id });
  const [board] = await tx.insert(boards).values({ processId: row!.id }).returning({ id: boards.id });
  return { processId: row!.id, boardId: board!.id };
}

export async function updateProcess(
  tx: Tx,
  processId: string,
  changes: { name?: string; conversionRequirements?: RequirementKey[]; now: Date },
): Promise<void> {
  await tx
    .update(processes)
    .set({
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.conversionRequirements ? { conversionRequirements: changes.conversionRequirements } : {}),
      version: sql`${processes.version} + 1`,
      updatedAt: changes.now,
    })
    .where(eq(processes.id, processId));
}

/** Inserts stages and answers their ids, in the order given. */
export async function insertStages(tx: Tx, processId: string, values: StageValues[]): Promise<string[]> {
  if (values.length === 0) return [];
  const rows = await tx
    .insert(stages)
    .values(values.map((v) => ({ ...stageColumns(v), processId })))
    .returning({ id: stages.id, position: stages.position });
  const byPosition = new Map(rows.map((r) => [r.position, r.id]));
  return values.map((v) => byPosition.get(v.position)!);
}

/**
 * Moves every stage of a process out of the way of the unique (process, key) and
 * (process, position) indexes, so the new list can be written in any order.
 */
export async function parkStages(tx: Tx, processId: string): Promise<void> {
  await tx
    .update(stages)
    .set({ position: sql`-1 - ${stages.position}`, key: sql`'~' || ${stages.id}::text` })
    .where(eq(stages.processId, processId));
}

export async function updateStage(tx: Tx, stageId: string, values: StageValues): Promise<void> {
  await tx.update(stages).set(stageColumns(values)).where(eq(stages.id, stageId));
}

export async function deleteStages(tx: Tx, stageIds: string[]): Promise<void> {
  if (stageIds.length === 0) return;
  await tx.delete(stages).where(inArray(stages.id, stageIds));
}

/** All leads (open or closed) in the given stages, in column order, oldest first among equals. */
export async function listLeadsInStages(
  db: Executor,
  stageIds: string[],
): Promise<Array<Pick<LeadRow, "id" | "stageId" | "status" | "rank">>> {
  if (stageIds.length === 0) return [];
  return db
    .select({ id: leads.id, stageId: leads.stageId, status: leads.status, rank: leads.rank })
    .from(leads)
    .where(inArray(leads.stageId, stageIds))
    .orderBy(asc(leads.rank), asc(leads.id));
}

/** Locks leads in id order: two writers locking overlapping sets cannot deadlock. */
export async function lockLeads(tx: Tx, leadIds: string[]): Promise<void> {
  if (leadIds.length === 0) return;
  await tx.select({ id: leads.id }).from(leads).where(inArray(leads.id, leadIds)).orderBy(asc(leads.id)).for("update");
}

/** Leads in these stages that are not in `known`: what slipped in since they were listed. */
export async function countLeadsInStagesExcept(db: Executor, stageIds: string[], known: string[]): Promise<number> {
  if (stageIds.length === 0) return 0;
  const rows = await db
    .select({ n: sql<number>`count(*)`.mapWith(Number) })
    .from(leads)
    .where(and(inArray(leads.stageId, stageIds), known.length ? notInArray(leads.id, known) : undefined));
  return rows[0]?.n ?? 0;
}

