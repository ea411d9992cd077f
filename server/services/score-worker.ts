import type { Logger } from "pino";
import type { Db } from "../db/client.ts";
import * as scoring from "../repositories/scoring.ts";
import { withBoardEvents, type CommittedEventSink } from "./event-log.ts";
import { scoreLeads, type ScoringRound } from "./lead-scorer.ts";

export interface ScoreWorkerOptions {
  logger: Logger;
  now: () => Date;
  /** Leads evaluated per transaction. */
  batchSize?: number;
  /** A lead gets at most one score event per this many milliseconds: bursts coalesce. */
  coalesceMs?: number;
  /** How often the queue is looked at when nothing wakes the worker (other channels, other nodes, expiries). */
  pollMs?: number;
  onRound?: (round: ScoringRound, ms: number) => void;
}

/**
 * Evaluates queued leads: those new interactions reached, and those whose oldest counted
 * interaction leaves its window now. A lead scored less than `coalesceMs` ago waits on the
 * queue, so a burst of interactions on one lead yields one event with its latest score.
 */
export class ScoreWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private wakeRequested = false;
  /** Real time (ms) each recently scored lead may be scored again. */
  private readonly recent = new Map<string, number>();
  private readonly batchSize: number;
  private readonly coalesceMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly db: Db,
    private readonly sink: CommittedEventSink,
    private readonly options: ScoreWorkerOptions,
  ) {
    // Small enough that a round holds its boards' locks for tens of milliseconds, not hundreds.
    this.batchSize = options.batchSize ?? 300;
    this.coalesceMs = options.coalesceMs ?? 100;
    this.pollMs = options.pollMs ?? 250;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** New work was queued in this process: look now rather than at the next poll. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Scores everything due now; for tests and tools. Returns the rounds' totals. */
  async drain(maxRounds = 1000): Promise<{ scored: number; events: number }> {
    let scored = 0;
    let events = 0;
    for (let i = 0; i < maxRounds; i++) {
      this.recent.clear();
      const round = await this.round();
      scored += round.scored.length;
      events += round.events;
      if (round.scored.length === 0 && round.deferred.length === 0) break;
    }
    return { scored, events };
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
      });
    }, delay);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.wakeRequested = false;
    let next = this.pollMs;
    try {
      const started = performance.now();
      const round = await this.round();
      this.options.onRound?.(round, performance.now() - started);
      const claimed = round.scored.length + round.deferred.length;
      // More is due, or was queued while this round ran: go again without asking the database when.
      if (claimed >= this.batchSize || this.wakeRequested) next = 0;
      else {
        const due = await scoring.nextDueAt(this.db);
        let dueIn = due ? Math.max(0, due.getTime() - this.options.now().getTime()) : this.pollMs;
        // What is due now but was left alone is a lead scored a moment ago: come back when it may be scored again.
        if (dueIn === 0 && claimed === 0) dueIn = Math.max(5, this.earliestRecent() - performance.now());
        next = Math.min(next, dueIn);
      }
    } catch (err) {
      this.options.logger.error({ err }, "scoring round failed; retrying");
      next = 1000;
    }
    if (this.wakeRequested) next = 0;
    if (!this.stopped) this.schedule(next);
  }

  private earliestRecent(): number {
    let earliest = performance.now() + this.coalesceMs;
    for (const until of this.recent.values()) if (until < earliest) earliest = until;
    return earliest;
  }

  private async round(): Promise<ScoringRound> {
    const real = performance.now();
    for (const [id, until] of this.recent) if (until <= real) this.recent.delete(id);
    const now = this.options.now();
    const round = await withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const due = await scoring.dueEntries(tx, now, this.batchSize, [...this.recent.keys()]);
      return scoreLeads(tx, log, due.map((e) => e.leadId), now, due);
    });
    const until = performance.now() + this.coalesceMs;
    for (const id of round.scored) this.recent.set(id, until);
    for (const id of round.deferred) this.recent.set(id, until);
    return round;
  }
}
