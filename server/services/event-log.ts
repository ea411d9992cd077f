import type { BoardEvent, BoardEventDraft } from "../../shared/board.ts";
import type { Db, Tx } from "../db/client.ts";
import { appendEvents } from "../repositories/boards.ts";

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
    /** Wake other nodes' followers at commit (see `CommittedEventSink.notifiesOtherNodes`). */
    private readonly notify = false,
  ) {}

  async append(boardId: string, draft: BoardEventDraft): Promise<BoardEvent> {
    const [event] = await this.appendAll(boardId, [draft]);
    return event!;
  }

  /** Several events on one board: one statement numbers, stores and announces them, in the given order. */
  async appendAll(boardId: string, drafts: BoardEventDraft[]): Promise<BoardEvent[]> {
    if (drafts.length === 0) return [];
    const at = this.now.toISOString();
    const unnumbered = drafts.map((draft) => ({ ...draft, boardId, at }) as Omit<BoardEvent, "seq">);
    const first = await appendEvents(this.tx, boardId, unnumbered, this.notify);
    const events = unnumbered.map((e, i) => ({ ...e, seq: first + i }) as BoardEvent);
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
    // Each append queues its pg_notify inside the transaction: PostgreSQL delivers it at
    // commit and drops it on rollback, so a follower is never woken for rows it cannot see
    // yet or that never were, and a crash between commit and a separate NOTIFY cannot lose
    // it. (A notification lost anyway, e.g. by a dropped LISTEN connection, is made up by
    // the followers' poll.)
    log = new EventLog(tx, now, sink.notifiesOtherNodes ?? false);
    return work(tx, log);
  });
  if (log && log.appended.length > 0) sink.committed(log.appended);
  return result;
}
