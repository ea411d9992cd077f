import { and, asc, desc, eq, gt, inArray, lt, lte, sql, type SQL } from "drizzle-orm";
import { boardEvents, boards, processes, stages } from "../../drizzle/schema.ts";
import type { BoardEvent, BoardStage } from "../../shared/board.ts";
import { textList, type Executor, type Tx } from "../db/client.ts";
import { timeLimitsFromMinutes } from "./processes.ts";

export interface BoardRow {
  id: string;
  processId: string;
  processName: string;
  lastSeq: number;
}

const boardColumns = {
  id: boards.id,
  processId: boards.processId,
  processName: processes.name,
  lastSeq: boards.lastSeq,
};

async function findBoardWhere(db: Executor, where: SQL): Promise<BoardRow | undefined> {
  const rows = await db
    .select(boardColumns)
    .from(boards)
    .innerJoin(processes, eq(processes.id, boards.processId))
    .where(where);
  return rows[0];
}

export const findBoard = (db: Executor, boardId: string) => findBoardWhere(db, eq(boards.id, boardId));
export const findBoardByProcess = (db: Executor, processId: string) =>
  findBoardWhere(db, eq(boards.processId, processId));
export const findDefaultBoard = (db: Executor) => findBoardWhere(db, eq(processes.isDefault, true));

export async function listStages(db: Executor, processId: string): Promise<BoardStage[]> {
  const rows = await db
    .select({
      id: stages.id,
      key: stages.key,
      name: stages.name,
      position: stages.position,
      entryRequirements: stages.entryRequirements,
      gateFlag: stages.gateFlag,
      salesReadyJump: stages.salesReadyJump,
      fields: stages.fields,
      warnAfterMinutes: stages.warnAfterMinutes,
      alertAfterMinutes: stages.alertAfterMinutes,
    })
    .from(stages)
    .where(eq(stages.processId, processId))
    .orderBy(asc(stages.position));
  return rows.map(({ warnAfterMinutes, alertAfterMinutes, ...stage }) => ({
    ...stage,
    timeLimits: timeLimitsFromMinutes(warnAfterMinutes, alertAfterMinutes),
  }));
}

/** Takes the board's write lock until the transaction ends (the same lock seqs use). */
export async function lockBoard(tx: Tx, boardId: string): Promise<void> {
  await tx.select({ id: boards.id }).from(boards).where(eq(boards.id, boardId)).for("update");
}

/**
 * Reserves the board's next `count` seqs. The row lock it takes is held until commit,
 * so seqs are handed out in commit order and never skip.
 */
export async function reserveSeqs(tx: Tx, boardId: string, count: number): Promise<number> {
  const rows = await tx
    .update(boards)
    .set({ lastSeq: sql`${boards.lastSeq} + ${count}` })
    .where(eq(boards.id, boardId))
    .returning({ lastSeq: boards.lastSeq });
  const row = rows[0];
  if (!row) throw new Error(`board ${boardId} does not exist`);
  return row.lastSeq - count + 1;
}

/** One JSON parameter for all the events: a scoring round appends hundreds at once. */
export async function insertEvents(tx: Tx, events: BoardEvent[]): Promise<void> {
  if (events.length === 0) return;
  const payload = JSON.stringify(
    events.map((e) => ({ board_id: e.boardId, seq: e.seq, type: e.type, payload: e, actor_id: e.actor.id, created_at: e.at })),
  );
  await tx.execute(sql`
    insert into board_events (board_id, seq, type, payload, actor_id, created_at)
    select x.board_id, x.seq, x.type, x.payload, x.actor_id, x.created_at
    from jsonb_to_recordset(${payload}::jsonb) as x(board_id uuid, seq bigint, type text, payload jsonb, actor_id uuid, created_at timestamptz)`);
}

/** Events after `sinceSeq`, oldest first, at most `limit` (inclusive bound `untilSeq` if given). */
export async function eventsSince(
  db: Executor,
  boardId: string,
  sinceSeq: number,
  limit: number,
  untilSeq?: number,
): Promise<BoardEvent[]> {
  const rows = await db
    .select({ payload: boardEvents.payload })
    .from(boardEvents)
    .where(
      and(
        eq(boardEvents.boardId, boardId),
        gt(boardEvents.seq, sinceSeq),
        untilSeq === undefined ? undefined : lte(boardEvents.seq, untilSeq),
      ),
    )
    .orderBy(asc(boardEvents.seq))
    .limit(limit);
  return rows.map((r) => r.payload as BoardEvent);
}

export async function oldestRetainedSeq(db: Executor, boardId: string): Promise<number | null> {
  const rows = await db
    .select({ seq: sql<number | null>`min(${boardEvents.seq})`.mapWith(Number) })
    .from(boardEvents)
    .where(eq(boardEvents.boardId, boardId));
  return rows[0]?.seq ?? null;
}

/** Conditions on the lead an event carries (its card as of the event). */
export interface EventLeadFilter {
  salesReady?: boolean;
  ownerId?: string;
  stageKeys?: readonly string[];
}

function leadConditions(filter: EventLeadFilter): SQL[] {
  const lead = sql`${boardEvents.payload}->'lead'`;
  const where: SQL[] = [];
  if (filter.salesReady !== undefined) where.push(sql`(${lead}->>'salesReady')::boolean = ${filter.salesReady}`);
  if (filter.ownerId !== undefined) where.push(sql`${lead}->>'ownerId' = ${filter.ownerId}`);
  if (filter.stageKeys !== undefined) where.push(sql`${lead}->>'stage' = any(${textList(filter.stageKeys)})`);
  return where;
}

/**
 * Events of the given types before `beforeSeq` (all when absent), newest first, at most
 * `limit`, optionally only those whose lead matches `lead`. Reads the primary key
 * (board_id, seq) backwards.
 */
export async function eventsBefore(
  db: Executor,
  boardId: string,
  options: { beforeSeq?: number | undefined; types: readonly string[]; limit: number; lead?: EventLeadFilter | undefined },
): Promise<BoardEvent[]> {
  const rows = await db
    .select({ payload: boardEvents.payload })
    .from(boardEvents)
    .where(
      and(
        eq(boardEvents.boardId, boardId),
        options.beforeSeq === undefined ? undefined : lt(boardEvents.seq, options.beforeSeq),
        inArray(boardEvents.type, [...options.types]),
        ...(options.lead ? leadConditions(options.lead) : []),
      ),
    )
    .orderBy(desc(boardEvents.seq))
    .limit(options.limit);
  return rows.map((r) => r.payload as BoardEvent);
}
