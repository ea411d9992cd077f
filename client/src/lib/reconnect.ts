/**
 * Reconnection with exponential backoff and full jitter, retrying forever.
 * DOM-free: the same driver runs in the browser (BoardState) and in Node (the stampede test).
 *
 * Why full jitter: after a server restart every client loses its connection at the same
 * instant. Spreading each retry uniformly over [floor, min(cap, base·factor^attempt)]
 * decorrelates them, so the returning crowd arrives spread over seconds, not in one burst.
 */

export interface BackoffPolicy {
  /** The ceiling of the first retry's window. */
  baseMs: number;
  factor: number;
  /** The ceiling never grows past this. */
  capMs: number;
  /** No retry comes sooner than this, so a broken server is never hammered. */
  floorMs: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 1_000, factor: 2, capMs: 30_000, floorMs: 250 };

/** The ceiling of the window for a retry after `attempt` failed attempts (0: the first retry). */
export function backoffCeiling(attempt: number, policy: BackoffPolicy = defaultBackoff): number {
  const exponent = Number.isNaN(attempt) ? 0 : Math.max(0, Math.floor(attempt));
  // factor^exponent overflows to Infinity for huge attempts; min() keeps it at the cap.
  return Math.max(policy.floorMs, Math.min(policy.capMs, policy.baseMs * policy.factor ** exponent));
}

/**
 * The delay before retry number `attempt` (0-based): uniform in [floor, ceiling].
 * `random` returns a number in [0, 1) (Math.random, or a seeded generator in tests).
 */
export function delayFor(attempt: number, random: () => number = Math.random, policy: BackoffPolicy = defaultBackoff): number {
  const ceiling = backoffCeiling(attempt, policy);
  const drawn = random();
  const r = Number.isFinite(drawn) ? Math.min(Math.max(drawn, 0), 1) : 0;
  return Math.round(policy.floorMs + r * (ceiling - policy.floorMs));
}

/** The part of a socket.io-client Socket the driver uses. */
export interface ReconnectSocket {
  readonly connected: boolean;
  connect(): unknown;
  disconnect(): unknown;
  on(event: "connect", fn: () => void): unknown;
  on(event: "disconnect", fn: (reason: string) => void): unknown;
  on(event: "connect_error", fn: (err: Error) => void): unknown;
}

/** Something that fires the browser's `online`/`offline` events (window); absent in Node. */
export interface NetworkEvents {
  addEventListener(type: "online" | "offline", fn: () => void): void;
  removeEventListener(type: "online" | "offline", fn: () => void): void;
}

/** One retry the driver scheduled: recorded so tests and the UI can see when it will happen. */
export interface ScheduledRetry {
  /** Failed attempts since the last successful connection. */
  attempt: number;
  delayMs: number;
  at: number;
  /** What made the driver schedule it. */
  cause: "disconnect" | "connect_error" | "online";
}

export interface ReconnectOptions {
  policy?: BackoffPolicy;
  random?: () => number;
  now?: () => number;
  /** Errors that retrying cannot fix; the driver stops retrying and reports them. */
  isFatal?: (err: Error) => boolean;
  onFatal?: (err: Error) => void;
  onConnect?: () => void;
  onDisconnect?: (reason: string) => void;
  /** Called whenever `attempt`, `nextAttemptAt` or `connected` may have changed. */
  onChange?: () => void;
  onSchedule?: (retry: ScheduledRetry) => void;
  /**
   * A connection that drops sooner than this after connecting counts as a failed attempt, so
   * a server or proxy that accepts and drops at once is backed off from, not retried every second.
   */
  stableAfterMs?: number;
  /** Defaults to `window` when there is one. */
  network?: NetworkEvents | null;
}

/** How long a connection must stay up before its drop starts the backoff afresh. */
export const stableAfterMs = 10_000;

export const isUnauthenticated = (err: Error): boolean => err.message === "UNAUTHENTICATED";

/**
 * Drives a socket created with `reconnection: false`: every disconnect (except our own
 * stop) and every connect_error (except a fatal one) schedules `socket.connect()` after
 * the next backoff delay. A connection that stays up resets the attempts; one that drops
 * within `stableAfterMs` counts as one more failure.
 */
export class Reconnector {
  /** Failed attempts since the last successful connection. */
  attempt = 0;
  /** When the next attempt is due (ms since the epoch), or null when none is scheduled. */
  nextAttemptAt: number | null = null;
  /** A fatal error stopped the retries (e.g. the session is gone). */
  fatal: Error | null = null;

  readonly #socket: ReconnectSocket;
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #options: ReconnectOptions;
  readonly #network: NetworkEvents | null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #started = false;
  #stopped = false;
  /** When the current connection came up, and the failures before it (restored if it drops at once). */
  #connectedAt: number | null = null;
  #failuresBefore = 0;

  constructor(socket: ReconnectSocket, options: ReconnectOptions = {}) {
    this.#socket = socket;
    this.#options = options;
    this.#policy = options.policy ?? defaultBackoff;
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    const win = (globalThis as { window?: NetworkEvents }).window;
    this.#network = options.network !== undefined ? options.network : (win ?? null);
  }

  get connected(): boolean {
    return this.#socket.connected;
  }

  /** Attaches to the socket and connects now. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const s = this.#socket;
    s.on("connect", () => this.#onConnect());
    s.on("disconnect", (reason) => this.#onDisconnect(reason));
    s.on("connect_error", (err) => this.#onConnectError(err));
    this.#network?.addEventListener("online", this.#onOnline);
    this.#network?.addEventListener("offline", this.#onOffline);
    s.connect();
  }

  /** Stops for good: no more retries, and the socket is closed. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#clearTimer();
    this.#network?.removeEventListener("online", this.#onOnline);
    this.#network?.removeEventListener("offline", this.#onOffline);
    this.#socket.disconnect();
  }

  /** Tries at once instead of waiting for the countdown (also after a fatal error, e.g. a new login). */
  retryNow(): void {
    if (this.#stopped || this.#socket.connected) return;
    this.fatal = null;
    this.#clearTimer();
    this.#changed();
    this.#socket.connect();
  }

  #onConnect(): void {
    if (this.#stopped) return;
    this.#clearTimer();
    this.#connectedAt = this.#now();
    this.#failuresBefore = this.attempt;
    this.attempt = 0;
    this.fatal = null;
    this.#changed();
    this.#options.onConnect?.();
  }

  #onDisconnect(reason: string): void {
    if (this.#stopped) return;
    // Whatever the reason (the server restarted, the network dropped, the server hung up):
    // retry. Only our own stop() ends the connection for good.
    const lasted = this.#connectedAt === null ? 0 : this.#now() - this.#connectedAt;
    this.#connectedAt = null;
    if (lasted < (this.#options.stableAfterMs ?? stableAfterMs)) this.attempt = this.#failuresBefore + 1;
    this.#schedule("disconnect");
    this.#options.onDisconnect?.(reason);
  }

  #onConnectError(err: Error): void {
    if (this.#stopped) return;
    if (this.#options.isFatal?.(err) ?? isUnauthenticated(err)) {
      this.fatal = err;
      this.#clearTimer();
      this.#changed();
      this.#options.onFatal?.(err);
      return;
    }
    this.attempt++;
    this.#schedule("connect_error");
  }

  /** The network is back: retry soon (still jittered: a whole office comes back online at once). */
  readonly #onOnline = (): void => {
    if (this.#stopped || this.#socket.connected || this.fatal) return;
    const delay = delayFor(0, this.#random, this.#policy);
    if (this.nextAttemptAt !== null && this.nextAttemptAt <= this.#now() + delay) return;
    this.#schedule("online", delay);
  };

  readonly #onOffline = (): void => this.#changed();

  #schedule(cause: ScheduledRetry["cause"], delayMs = delayFor(this.attempt, this.#random, this.#policy)): void {
    this.#clearTimer();
    const at = this.#now() + delayMs;
    this.nextAttemptAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.nextAttemptAt = null;
      if (this.#stopped || this.#socket.connected) return;
      this.#changed();
      this.#socket.connect();
    }, delayMs);
    this.#options.onSchedule?.({ attempt: this.attempt, delayMs, at, cause });
    this.#changed();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.nextAttemptAt = null;
  }

  #changed(): void {
    this.#options.onChange?.();
  }
}

export type ConnectionStatus = "connecting" | "online" | "reconnecting" | "offline";

/** After this many failed attempts in a row the connection counts as offline (still retrying). */
export const offlineAfterAttempts = 3;

export interface ConnectionFacts {
  connected: boolean;
  /** Retrying stopped on a fatal error (the session is gone). */
  fatal: boolean;
  /** The browser says it has no network (navigator.onLine === false). */
  browserOffline: boolean;
  /** Failed attempts since the last successful connection. */
  attempt: number;
  /** Whether this page was ever connected (else it is still making its first connection). */
  everConnected: boolean;
}

/** What the connection indicator shows. */
export function connectionStatus(f: ConnectionFacts): ConnectionStatus {
  if (f.connected) return "online";
  if (f.fatal || f.browserOffline || f.attempt >= offlineAfterAttempts) return "offline";
  return f.everConnected ? "reconnecting" : "connecting";
}

/** Whole seconds until `at` for a countdown ("Reconnecting in 4 s"); null when nothing is scheduled. */
export function secondsUntil(at: number | null, nowMs: number): number | null {
  if (at === null) return null;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}
