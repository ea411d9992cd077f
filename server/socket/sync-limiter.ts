import { DomainError } from "../../shared/errors.ts";

/** How many board syncs (join snapshots, resyncs, pages) one node runs at once by default. */
export const defaultMaxConcurrentSyncs = 8;

/**
 * How long a sync may wait for its turn. Below the client's 20 s request timeout, so the
 * client hears a clear UNAVAILABLE (and retries with backoff) instead of a silent timeout
 * followed by a second request while the first still waits.
 */
export const defaultMaxSyncWaitMs = 15_000;

export interface SyncLimiterOptions {
  /** Syncs run at once; default 8. */
  max?: number;
  /** A sync still waiting after this long is dropped with UNAVAILABLE; default 15 s. */
  maxWaitMs?: number;
}

export interface SyncLimiterStats {
  running: number;
  queued: number;
  /** The most that ever ran at once (never above the limit). */
  peak: number;
}

export interface SyncRequest {
  /**
   * Syncs of one lane (e.g. one socket's joins and resyncs) run one at a time, in order of
   * arrival, and at most one waits: a newer one replaces the waiting one, which fails with
   * UNAVAILABLE (its requester has moved on). Without a lane a sync is on its own.
   */
  lane?: string;
  /** Asked when the turn comes: false (the socket disconnected meanwhile) skips the sync with UNAVAILABLE. */
  stillWanted?: () => boolean;
}

interface Waiter {
  lane: string | undefined;
  start: () => void;
  fail: (err: DomainError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Admission control for expensive sync work. After a restart every client comes back and
 * asks for a snapshot or a replay; running them all at once would exhaust the database
 * pool and time out everyone. At most `max` run at a time; the rest wait in arrival order.
 * A sync is refused only when nobody wants its answer any more: replaced by a newer one of
 * its lane, waited past `maxWaitMs` (the client has given up), or its socket left.
 */
export class SyncLimiter {
  readonly max: number;
  readonly maxWaitMs: number;
  #running = 0;
  #peak = 0;
  readonly #queue: Waiter[] = [];
  /** Lanes with a sync running: their waiter stays queued until it ends. */
  readonly #busyLanes = new Set<string>();
  readonly #waitingByLane = new Map<string, Waiter>();

  constructor(options: number | SyncLimiterOptions = {}) {
    const { max = defaultMaxConcurrentSyncs, maxWaitMs = defaultMaxSyncWaitMs } = typeof options === "number" ? { max: options } : options;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`the sync limit must be a positive integer, not ${max}`);
    if (!Number.isFinite(maxWaitMs) || maxWaitMs <= 0) throw new RangeError(`the longest sync wait must be a positive number of ms, not ${maxWaitMs}`);
    this.max = max;
    this.maxWaitMs = maxWaitMs;
  }

  get stats(): SyncLimiterStats {
    return { running: this.#running, queued: this.#queue.length, peak: this.#peak };
  }

  /** Runs `task` when a slot is free and its lane is idle; see `SyncRequest`. */
  async run<T>(task: () => Promise<T>, request: SyncRequest = {}): Promise<T> {
    const { lane, stillWanted = () => true } = request;
    await this.#admit(lane);
    try {
      if (!stillWanted()) throw new DomainError("UNAVAILABLE", "The connection closed before the sync could run");
      return await task();
    } finally {
      this.#release(lane);
    }
  }

  #admit(lane: string | undefined): Promise<void> {
    if (lane !== undefined) {
      const older = this.#waitingByLane.get(lane);
      if (older) {
        this.#drop(older);
        older.fail(new DomainError("UNAVAILABLE", "Superseded by a newer request from this connection"));
      }
    }
    if (this.#running < this.max && (lane === undefined || !this.#busyLanes.has(lane))) {
      this.#start(lane);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        lane,
        start: resolve,
        fail: reject,
        timer: setTimeout(() => {
          this.#drop(waiter);
          const seconds = Math.round(this.maxWaitMs / 1000);
          reject(new DomainError("UNAVAILABLE", `The server is busy: the sync waited over ${seconds} s for its turn; try again`));
        }, this.maxWaitMs),
      };
      // A waiting sync alone must not keep the process alive at shutdown.
      waiter.timer.unref?.();
      this.#queue.push(waiter);
      if (lane !== undefined) this.#waitingByLane.set(lane, waiter);
    });
  }

  #start(lane: string | undefined): void {
    this.#running++;
    this.#peak = Math.max(this.#peak, this.#running);
    if (lane !== undefined) this.#busyLanes.add(lane);
  }

  /** Takes a waiter out of the queue without starting it. */
  #drop(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    const at = this.#queue.indexOf(waiter);
    if (at >= 0) this.#queue.splice(at, 1);
    if (waiter.lane !== undefined && this.#waitingByLane.get(waiter.lane) === waiter) this.#waitingByLane.delete(waiter.lane);
  }

  /** Frees the slot and starts the oldest waiters whose lanes are idle, so `running` never exceeds `max`. */
  #release(lane: string | undefined): void {
    this.#running--;
    if (lane !== undefined) this.#busyLanes.delete(lane);
    while (this.#running < this.max) {
      const next = this.#queue.find((w) => w.lane === undefined || !this.#busyLanes.has(w.lane));
      if (!next) return;
      this.#drop(next);
      this.#start(next.lane);
      next.start();
    }
  }
}
