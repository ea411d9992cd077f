/**
 * Keeps the TV's screen on (Screen Wake Lock API). The browser releases the lock whenever the
 * page is hidden, so it is asked for again each time the page becomes visible. Where the API is
 * missing or refuses (no HTTPS, a power-saving policy), the wall works on and says so once in
 * the console: the TV's own settings then decide.
 */

interface Sentinel {
  readonly released: boolean;
  release(): Promise<void>;
  addEventListener(type: "release", fn: () => void): void;
}

/** The parts of `navigator` and `document` used, so the keeper runs in tests without a DOM. */
export interface WakeLockHost {
  wakeLock?: { request(type: "screen"): Promise<Sentinel> };
  visibilityState(): DocumentVisibilityState;
  onVisibilityChange(fn: () => void): () => void;
  log(message: string): void;
}

export class WakeLockKeeper {
  /** Whether the screen is held now. */
  held = false;
  readonly #host: WakeLockHost;
  #sentinel: Sentinel | null = null;
  #stopVisibility: (() => void) | null = null;
  #logged = false;
  #stopped = false;
  #asking = false;

  constructor(host: WakeLockHost) {
    this.#host = host;
  }

  start(): void {
    this.#stopped = false;
    this.#stopVisibility = this.#host.onVisibilityChange(() => {
      if (this.#host.visibilityState() === "visible") void this.acquire();
    });
    void this.acquire();
  }

  stop(): void {
    this.#stopped = true;
    this.#stopVisibility?.();
    this.#stopVisibility = null;
    const sentinel = this.#sentinel;
    this.#sentinel = null;
    this.held = false;
    void sentinel?.release().catch(() => {});
  }

  /** Asks for the lock unless it is held, being asked for, or the page is hidden (a request would be refused). */
  async acquire(): Promise<void> {
    if (this.#stopped || this.#asking || (this.#sentinel && !this.#sentinel.released)) return;
    const api = this.#host.wakeLock;
    if (!api) return this.#logOnce("Screen Wake Lock is not supported here; the TV's own settings keep the screen on");
    if (this.#host.visibilityState() !== "visible") return;
    this.#asking = true;
    try {
      const sentinel = await api.request("screen");
      if (this.#stopped) {
        void sentinel.release().catch(() => {});
        return;
      }
      this.#sentinel = sentinel;
      this.held = true;
      sentinel.addEventListener("release", () => {
        if (this.#sentinel === sentinel) this.held = false;
      });
    } catch (err) {
      this.#logOnce(`Screen Wake Lock was refused (${err instanceof Error ? err.message : String(err)}); retried when the page is shown again`);
    } finally {
      this.#asking = false;
    }
  }

  #logOnce(message: string): void {
    if (this.#logged) return;
    this.#logged = true;
    this.#host.log(message);
  }
}

/** The browser's navigator and document as a host. */
export function browserWakeLockHost(): WakeLockHost {
  const nav = navigator as unknown as { wakeLock?: WakeLockHost["wakeLock"] };
  return {
    ...(nav.wakeLock ? { wakeLock: nav.wakeLock } : {}),
    visibilityState: () => document.visibilityState,
    onVisibilityChange(fn) {
      document.addEventListener("visibilitychange", fn);
      return () => document.removeEventListener("visibilitychange", fn);
    },
    log: (message) => console.info(`[wall] ${message}`),
  };
}
