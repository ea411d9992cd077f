import type { Logger } from "pino";
import type { BoardEvent } from "../../shared/board.ts";
import type { Db } from "../db/client.ts";
import { eventsSince } from "../repositories/boards.ts";
import { boards } from "../../drizzle/schema.ts";
import type { CommittedEventSink } from "./event-log.ts";

interface BoardStream {
  lastDelivered: number;
  pending: Map<number, BoardEvent>;
  gapTimer: NodeJS.Timeout | undefined;
}

/** Events read from the log per query when catching up; a board far behind takes several. */
const catchUpBatch = 500;

/**
 * Delivers committed board events to viewers strictly in seq order, exactly once per
 * node. Commits can finish in one order and reach this process in another; an event
 * that arrives early waits for its predecessors, and a predecessor that does not show
 * up within `gapWaitMs` is read back from the event log.
 *
 * With several nodes (`followsLog`), events committed elsewhere arrive by `catchUp`,
 * which reads the log past what this node has delivered; both paths meet in one
 * per-board stream, so each event is delivered once whichever path brings it first.
 */
export class BoardFanout implements CommittedEventSink {
  private readonly streams = new Map<string, BoardStream>();
  private readonly catchingUp = new Map<string, Promise<void>>();
  /** Boards asked to catch up while a read was running: read again when it ends. */
  private readonly askedAgain = new Set<string>();
  private closed = false;
  readonly notifiesOtherNodes: boolean;

  constructor(
    private readonly deps: {
      db: Db;
      deliver: (event: BoardEvent) => void;
      logger: Logger;
      gapWaitMs?: number;
      /** Other nodes write to the same log: notify them of appends, and accept `catchUp`. */
      followsLog?: boolean;
    },
  ) {
    this.notifiesOtherNodes = deps.followsLog ?? false;
  }

  /** Learns where each board stands, so the first event after start is not mistaken for a gap. */
  async start(): Promise<void> {
    const rows = await this.deps.db.select({ id: boards.id, lastSeq: boards.lastSeq }).from(boards);
    for (const row of rows) this.stream(row.id, row.lastSeq);
  }

  close(): void {
    this.closed = true;
    for (const s of this.streams.values()) clearTimeout(s.gapTimer);
  }

  lastDelivered(boardId: string): number | undefined {
    return this.streams.get(boardId)?.lastDelivered;
  }

  committed(events: BoardEvent[]): void {
    for (const event of events) this.receive(event);
  }

  /**
   * Reads the board's log past what this node has delivered and delivers it, in order,
   * `catchUpBatch` events per query. Calls while a read runs coalesce into one more read.
   */
  catchUp(boardId: string): Promise<void> {
    const running = this.catchingUp.get(boardId);
    if (running) {
      this.askedAgain.add(boardId);
      return running;
    }
    const run = this.readLog(boardId)
      .catch((err: unknown) => this.deps.logger.warn({ err, boardId }, "could not read the event log to catch up; the next poll retries"))
      .finally(() => {
        this.catchingUp.delete(boardId);
        if (this.askedAgain.delete(boardId) && !this.closed) void this.catchUp(boardId);
      });
    this.catchingUp.set(boardId, run);
    return run;
  }

  private async readLog(boardId: string): Promise<void> {
    // A board this node has never seen was made after it started: its whole log is new here.
    const s = this.stream(boardId, 0);
    while (!this.closed) {
      const from = s.lastDelivered;
      const events = await eventsSince(this.deps.db, boardId, from, catchUpBatch);
      const first = events[0];
      if (!first) return;
      // Seqs commit in order, so a committed log that starts past `from + 1` was pruned; it never fills in.
      if (first.seq > from + 1 && s.lastDelivered === from) {
        this.deps.logger.warn({ boardId, from, next: first.seq }, "board events were pruned before this node delivered them");
        s.lastDelivered = first.seq - 1;
      }
      for (const event of events) this.receive(event);
      if (events.length < catchUpBatch || s.lastDelivered === from) return;
    }
  }

  private stream(boardId: string, lastSeq: number): BoardStream {
    let s = this.streams.get(boardId);
    if (!s) {
      s = { lastDelivered: lastSeq, pending: new Map(), gapTimer: undefined };
      this.streams.set(boardId, s);
    }
    return s;
  }

  private receive(event: BoardEvent): void {
    if (this.closed) return;
    const s = this.stream(event.boardId, event.seq - 1);
    if (event.seq <= s.lastDelivered) return;
    s.pending.set(event.seq, event);
    this.drain(event.boardId, s);
  }

  private drain(boardId: string, s: BoardStream): void {
    for (let next = s.pending.get(s.lastDelivered + 1); next; next = s.pending.get(s.lastDelivered + 1)) {
      s.pending.delete(next.seq);
      s.lastDelivered = next.seq;
      this.deps.deliver(next);
    }
    if (s.pending.size === 0) {
      clearTimeout(s.gapTimer);
      s.gapTimer = undefined;
    } else if (!s.gapTimer) {
      s.gapTimer = setTimeout(() => void this.fillGap(boardId, s), this.deps.gapWaitMs ?? 50);
    }
  }

  private async fillGap(boardId: string, s: BoardStream): Promise<void> {
    s.gapTimer = undefined;
    if (this.closed || s.pending.size === 0) return;
    const until = Math.max(...s.pending.keys());
    try {
      const missing = await eventsSince(this.deps.db, boardId, s.lastDelivered, until - s.lastDelivered, until);
      for (const e of missing) if (e.seq > s.lastDelivered && !s.pending.has(e.seq)) s.pending.set(e.seq, e);
    } catch (err) {
      this.deps.logger.warn({ err, boardId }, "could not read the event log to fill a gap; will retry");
    }
    this.drain(boardId, s);
  }
}
