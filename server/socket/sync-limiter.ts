import { DomainError } from "../../shared/errors.ts";

/** How many board syncs (join snapshots, resyncs) one node runs at once by default. */
export const defaultMaxConcurrentSyncs = 8;

export interface SyncLimiterStats {
  running: number;
  queued: number;
  /** The most that ever ran at once (never above the limit). */
  peak: number;
}

/**
 * Admission control for expensive sync work. After a restart every client comes back and
 * asks for a snapshot or a replay; running them all at once would exhaust the database
 * pool and time out everyone. At most `max` run at a time; the rest wait in arrival order
 * and are never refused. Work whose requester has gone away meanwhile is skipped.
 */
export class SyncLimiter {
  readonly max: number;
  #running = 0;
  #peak = 0;
  readonly #queue: Array<() => void> = [];

  constructor(max: number = defaultMaxConcurrentSyncs) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`the sync limit must be a positive integer, not ${max}`);
    this.max = max;
  }

  get stats(): SyncLimiterStats {
    return { running: this.#running, queued: this.#queue.length, peak: this.#peak };
  }

  /**
   * Runs `task` when a slot is free. `stillWanted` is asked when the turn comes: false
   * (the socket disconnected while waiting) skips the task with UNAVAILABLE.
   */
  async run<T>(task: () => Promise<T>, stillWanted: () => boolean = () => true): Promise<T> {
    await this.#acquire();
    try {
      if (!stillWanted()) throw new DomainError("UNAVAILABLE", "The connection closed before the sync could run");
      return await task();
    } finally {
      this.#release();
    }
  }

  #acquire(): Promise<void> {
    if (this.#running < this.max) {
      this.#running++;
      this.#peak = Math.max(this.#peak, this.#running);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  /** Hands the slot straight to the next waiter, so `running` never exceeds `max`. */
  #release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#running--;
  }
}
