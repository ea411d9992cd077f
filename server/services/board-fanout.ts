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

/**
 * Delivers committed board events to viewers strictly in seq order, exactly once per
 * node. Commits can finish in one order and reach this process in another; an event
 * that arrives early waits for its predecessors, and a predecessor that does not show
 * up within `gapWaitMs` is read back from the event log.
 */
export class BoardFanout implements CommittedEventSink {
  private readonly streams = new Map<string, BoardStream>();
  private closed = false;

  constructor(
    private readonly deps: {
      db: Db;
      deliver: (event: BoardEvent) => void;
      logger: Logger;
      gapWaitMs?: number;
    },
  ) {}

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
