import { and, asc, desc, eq, gt, lt, lte, sql, type AnyColumn, type SQL } from "drizzle-orm";
import { activityTypesPredicate, boardEvents, boards, processes, stages, type ActivityEventType } from "../../drizzle/schema.ts";
import type { BoardEvent, BoardStage } from "../../shared/board.ts";
import { queryRows, textList, type Executor, type Tx } from "../db/client.ts";
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

/** An event before its seq is known. */
export type UnnumberedEvent = Omit<BoardEvent, "seq">;

/**
 * Appends events to a board's log in one statement: takes the board's next seqs (the row lock
 * on `boards` it takes is held until commit, so seqs are handed out in commit order and never
 * skip), inserts the events with their seqs, and, when other nodes follow the log, queues
 * `NOTIFY board_events, '<boardId>:<last seq>'`, which PostgreSQL delivers at commit and drops
 * on rollback. One round trip instead of three matters because every other writer on the
 * board waits while the lock is held. Answers the first seq.
 */
export async function appendEvents(tx: Tx, boardId: string, events: UnnumberedEvent[], notify: boolean): Promise<number> {
  // One JSON parameter for all the events: a scoring round appends hundreds at once.
  const rows = JSON.stringify(events.map((e, ord) => ({ ord, type: e.type, payload: e, actor_id: e.actor.id, created_at: e.at })));
  const result = await queryRows<{ last_seq: string | number }>(
    tx,
    sql`
    with next as (
      update boards set last_seq = last_seq + ${events.length}::int where id = ${boardId}::uuid returning last_seq
    ), appended as (
      insert into board_events (board_id, seq, type, payload, actor_id, created_at)
      select ${boardId}::uuid, seq, x.type, x.payload || jsonb_build_object('seq', seq), x.actor_id, x.created_at
      from next,
        jsonb_to_recordset(${rows}::jsonb) as x(ord int, type text, payload jsonb, actor_id uuid, created_at timestamptz),
        lateral (select next.last_seq - ${events.length}::int + 1 + x.ord as seq) as numbered
    )
    select last_seq,
      case when ${notify}::boolean then pg_notify(${boardEventsChannel}, ${boardId} || ':' || last_seq)::text end as notified
    from next`,
  );
  const row = result[0];
  if (!row) throw new Error(`board ${boardId} does not exist`);
  return Number(row.last_seq) - events.length + 1;
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

/** The lead's owner as `board_events_activity_owner_idx` indexes it (the expression must match). */
const ownerOf = (payload: AnyColumn | SQL.Aliased) => sql`(${payload}->'lead'->>'ownerId')`;

/** The conditions no index answers: read from each scanned event's payload. */
function payloadConditions(payload: AnyColumn | SQL.Aliased, filter: EventLeadFilter): SQL[] {
  const lead = sql`${payload}->'lead'`;
  const where: SQL[] = [];
  if (filter.salesReady !== undefined) where.push(sql`(${lead}->>'salesReady')::boolean = ${filter.salesReady}`);
  if (filter.stageKeys !== undefined) where.push(sql`${lead}->>'stage' = any(${textList(filter.stageKeys)})`);
  return where;
}

export interface ActivityRead {
  /** Matching events, newest first, at most `limit`. */
  events: BoardEvent[];
  /**
   * Set when the read stopped after `scanLimit` events before it found `limit`: the lowest
   * seq it read. Older events were not looked at; continue before this seq.
   */
  stoppedAt: number | null;
}

/**
 * Feed events of the given types before `beforeSeq` (all when absent), newest first, at
 * most `limit`, optionally only those whose lead matches `lead`. Reads the partial index
 * `board_events_activity_idx` (or `board_events_activity_owner_idx` for an owner) backwards
 * and looks at no more than `scanLimit` of its events: a view that matches few of them
 * (sales-ready, a stage set) gets what was found and where the read stopped, instead of a
 * walk through the whole log.
 */
export async function activityBefore(
  db: Executor,
  boardId: string,
  options: {
    beforeSeq?: number | undefined;
    types: readonly ActivityEventType[];
    limit: number;
    lead?: EventLeadFilter | undefined;
    scanLimit: number;
  },
): Promise<ActivityRead> {
  // Never fewer than a page: a short page then always means the log ended or the bound was hit.
  const scanLimit = Math.max(options.scanLimit, options.limit);
  const indexed = and(
    eq(boardEvents.boardId, boardId),
    options.beforeSeq === undefined ? undefined : lt(boardEvents.seq, options.beforeSeq),
    activityTypesPredicate(boardEvents.type, options.types),
    options.lead?.ownerId === undefined ? undefined : sql`${ownerOf(boardEvents.payload)} = ${options.lead.ownerId}`,
  );
  const scanned = db
    .select({ seq: boardEvents.seq, payload: boardEvents.payload })
    .from(boardEvents)
    .where(indexed)
    .orderBy(desc(boardEvents.seq))
    .limit(scanLimit)
    .as("scanned");
  const filters = options.lead ? payloadConditions(scanned.payload, options.lead) : [];
  const rows = await db
    .select({ payload: scanned.payload })
    .from(scanned)
    .where(and(...filters))
    .orderBy(desc(scanned.seq))
    .limit(options.limit);
  const events = rows.map((r) => r.payload as BoardEvent);
  // Without payload filters every scanned event is returned: a short page means the log ended.
  if (events.length === options.limit || filters.length === 0) return { events, stoppedAt: null };
  // Did the short page end with the log or at the bound? The scan's last row says (the same index, no payloads).
  const edge = await db
    .select({ seq: boardEvents.seq })
    .from(boardEvents)
    .where(indexed)
    .orderBy(desc(boardEvents.seq))
    .limit(1)
    .offset(scanLimit - 1);
  return { events, stoppedAt: edge[0]?.seq ?? null };
}

/** Where every board's log stands (committed), for a node checking it has delivered all of it. */
export async function boardLastSeqs(db: Executor): Promise<Array<{ id: string; lastSeq: number }>> {
  return db.select({ id: boards.id, lastSeq: boards.lastSeq }).from(boards);
}

/** The channel writers NOTIFY after appending board events; the payload is `<boardId>:<seq>`. */
export const boardEventsChannel = "board_events";

