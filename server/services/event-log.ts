import type { BoardEvent, BoardEventDraft } from "../../shared/board.ts";
import type { Db, Tx } from "../db/client.ts";
import { insertEvents, notifyBoardEvents, reserveSeqs } from "../repositories/boards.ts";

/** Receives events once their transaction has committed. */
export interface CommittedEventSink {
  committed(events: BoardEvent[]): void;
  /**
   * Set when other nodes follow the log (PostgreSQL only): each transaction that appends
   * also sends `NOTIFY board_events, '<boardId>:<seq>'` to wake their followers.
   */
  readonly notifiesOtherNodes?: boolean;
}

/** Appends board events inside the transaction that makes the change they describe. */
export class EventLog {
  readonly appended: BoardEvent[] = [];

  constructor(
    private readonly tx: Tx,
    private readonly now: Date,
  ) {}

  async append(boardId: string, draft: BoardEventDraft): Promise<BoardEvent> {
    const seq = await reserveSeqs(this.tx, boardId, 1);
    const event = { ...draft, boardId, seq, at: this.now.toISOString() } as BoardEvent;
    await insertEvents(this.tx, [event]);
    this.appended.push(event);
    return event;
  }

  /** Several events on one board: one seq reservation and one insert, in the given order. */
  async appendAll(boardId: string, drafts: BoardEventDraft[]): Promise<BoardEvent[]> {
    if (drafts.length === 0) return [];
    const first = await reserveSeqs(this.tx, boardId, drafts.length);
    const events = drafts.map((draft, i) => ({ ...draft, boardId, seq: first + i, at: this.now.toISOString() }) as BoardEvent);
    await insertEvents(this.tx, events);
    this.appended.push(...events);
    return events;
  }
}

/**
 * Runs `work` in one transaction with an event log; the events reach the sink only
 * after commit, so nobody ever sees a change that was rolled back.
 */
export async function withBoardEvents<T>(
  db: Db,
  sink: CommittedEventSink,
  now: Date,
  work: (tx: Tx, log: EventLog) => Promise<T>,
): Promise<T> {
  let log: EventLog | undefined;
  const result = await db.transaction(async (tx) => {
    log = new EventLog(tx, now);
    const out = await work(tx, log);
    // pg_notify inside the transaction: PostgreSQL delivers it at commit and drops it on
    // rollback, so a follower is never woken for rows it cannot see yet or that never were,
    // and a crash between commit and a separate NOTIFY cannot lose it. The cost is one
    // statement while the board's row lock is held. (A notification lost anyway, e.g. by a
    // dropped LISTEN connection, is made up by the followers' poll.)
    if (sink.notifiesOtherNodes && log.appended.length > 0) await notifyBoardEvents(tx, latestSeqs(log.appended));
    return out;
  });
  if (log && log.appended.length > 0) sink.committed(log.appended);
  return result;
}

function latestSeqs(events: readonly BoardEvent[]): Map<string, number> {
  const latest = new Map<string, number>();
  for (const e of events) latest.set(e.boardId, Math.max(e.seq, latest.get(e.boardId) ?? 0));
  return latest;
}
