/**
 * A wall display (TV mode): the board store on a socket that proves itself with the display's
 * token, the screens the server sends (`wall:config`), rotation between them, the figures,
 * celebrations, the clock and the wall's own upkeep (burn-in shift, wake lock, reloading after
 * a deploy). The board's sync (join, resync, reconnects) is BoardState's; nothing here repeats it.
 */
import { io } from "socket.io-client";
import type { DisplayScreen, WallConfig } from "../../../../shared/schemas/display-tokens.ts";
import type { SessionEndReason } from "../../../../shared/events.ts";
import { BoardState, type BoardSocket } from "../board.svelte.ts";
import { pixelShift, shiftStep, type PixelShift } from "./burn-in.ts";
import { CelebrationShow } from "./celebration-show.svelte.ts";
import { detectCelebration } from "./celebrations.ts";
import { rotates, rotationAt } from "./rotation.ts";
import { chime } from "./sound.ts";
import { reloadDelayMs, versionDecision } from "./version.ts";
import { passesScreenFilters } from "./wall-columns.ts";
import { WakeLockKeeper, type WakeLockHost } from "./wake-lock.ts";
import { WallFiguresState } from "./wall-figures.svelte.ts";

/** Why the wall stopped for good: its token was revoked (or never valid), or its session ended otherwise. */
export type WallEnd = "revoked" | "ended";

export interface WallOptions {
  token: string;
  /** A socket to use instead of connecting to the page's origin (tests). */
  socket?: BoardSocket;
  /** Reloads the page (a new client was deployed); default `location.reload()`. */
  reload?: () => void;
  /** The wake lock's browser parts; null: none (tests). */
  wakeLock?: WakeLockHost | null;
  now?: () => number;
  random?: () => number;
  /** Plays the celebration chime; default WebAudio. */
  chime?: () => void;
}

export interface RotationState {
  /** When the current screen started showing (ms since the epoch). */
  startedAt: number;
  periodMs: number;
}

const sameScreens = (a: readonly DisplayScreen[], b: readonly DisplayScreen[]) => JSON.stringify(a) === JSON.stringify(b);

export class WallState {
  readonly board: BoardState;
  readonly figures: WallFiguresState;
  readonly celebrations: CelebrationShow;
  config = $state.raw<WallConfig | null>(null);
  /** The screen asked for. */
  screenIndex = $state(0);
  /** The screen whose board is on view (its label and filters apply): the one asked for once its board has loaded. */
  shownIndex = $state(0);
  rotation = $state.raw<RotationState | null>(null);
  ended = $state<WallEnd | null>(null);
  /** The wall's clock (local time), ticking every second. */
  now = $state(Date.now());
  /** When the connection was lost (null while online or before the first connection). */
  offlineSince = $state<Date | null>(null);
  shift = $state.raw<PixelShift>({ x: 0, y: 0 });
  /** A new client was deployed: the page reloads shortly. */
  reloading = $state(false);
  /** When the board was last joined or caught up (a catch-up with nothing new applies no event). */
  syncedAt = $state<Date | null>(null);

  readonly #options: WallOptions;
  readonly #now: () => number;
  readonly #started: number;
  readonly #wakeLock: WakeLockKeeper | null;
  #version: string | null = null;
  #wasOnline = false;
  /** Connected at least once (the config comes with every connection): a loss since is "offline since". */
  #everOnline = false;
  #rotationFrom: { at: number; index: number } | null = null;
  #rotationTimer: ReturnType<typeof setTimeout> | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #reloadTimer: ReturnType<typeof setTimeout> | undefined;
  #unsubscribe: Array<() => void> = [];

  constructor(options: WallOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#started = this.#now();
    this.now = this.#started;
    // The token is the display's whole identity: no cookie, no login. Reconnection is the Connection's.
    const socket =
      options.socket ??
      io({ transports: ["websocket"], autoConnect: false, forceNew: true, reconnection: false, auth: { displayToken: options.token } });
    this.board = new BoardState({
      // A display is nobody: no change on the board is "its own".
      userId: "",
      socket,
      awaitTarget: true,
      onUnauthenticated: () => this.#end("revoked"),
    });
    this.figures = new WallFiguresState(this.board, this.#now);
    const play = options.chime ?? (() => void chime());
    this.celebrations = new CelebrationShow({ onShow: () => this.config?.sound && play() });
    this.#wakeLock = options.wakeLock ? new WakeLockKeeper(options.wakeLock) : null;
  }

  /** The screen on view, or null before the config has come. */
  get screen(): DisplayScreen | null {
    return this.config?.screens[this.shownIndex] ?? null;
  }

  /** "Updated …": the last event applied or the last sync, whichever is later. */
  get lastUpdated(): Date | null {
    const event = this.board.lastUpdated;
    const synced = this.syncedAt;
    if (!event || !synced) return event ?? synced;
    return event > synced ? event : synced;
  }

  /** The header's title: the screen's label, else the display's name, else the board's. */
  get title(): string {
    return this.screen?.label || this.config?.name || this.board.processName || "Lead board";
  }

  start(): void {
    const b = this.board;
    this.#unsubscribe = [
      b.onBroadcast("server:version", (info) => this.#onVersion(info?.clientVersion)),
      b.onBroadcast("wall:config", (config) => this.#onConfig(config)),
      b.onBroadcast("session:ended", (info) => this.#onSessionEnded(info?.reason)),
      b.onSynced(() => {
        this.syncedAt = new Date(this.#now());
        this.#updateShown();
      }),
      b.onApplied((event, previous) => {
        const screen = this.screen;
        if (this.ended || !("lead" in event) || !screen || !passesScreenFilters(event.lead, screen.filters)) return;
        const celebration = detectCelebration(event, previous, this.#now());
        if (celebration) this.celebrations.add(celebration);
      }),
    ];
    this.#ticker = setInterval(() => this.#tick(), 1_000);
    this.figures.start();
    this.#wakeLock?.start();
    b.start();
  }

  stop(): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    clearInterval(this.#ticker);
    clearTimeout(this.#reloadTimer);
    this.#stopRotation();
    this.figures.stop();
    this.celebrations.stop();
    this.#wakeLock?.stop();
    this.board.stop();
  }

  #onConfig(config: WallConfig): void {
    if (this.ended || !config || !Array.isArray(config.screens) || config.screens.length === 0) return;
    const changed = this.config === null || !sameScreens(this.config.screens, config.screens);
    const rotationChanged = this.config?.rotateSeconds !== config.rotateSeconds;
    this.config = config;
    this.#everOnline = true;
    if (changed) {
      // New screens (an admin edited the display): start over from the first.
      this.shownIndex = 0;
      this.#show(0);
    } else {
      this.#show(Math.min(this.screenIndex, config.screens.length - 1));
    }
    if (changed || rotationChanged) this.#rotationFrom = null;
    this.#scheduleRotation();
  }

  /** Asks for screen `index`: its board and view are joined (or already shown), its filters apply once it is on view. */
  #show(index: number): void {
    const screen = this.config?.screens[index];
    if (!screen) return;
    this.screenIndex = index;
    this.board.switchTo({ processId: screen.processId, view: screen.view });
    this.#updateShown();
  }

  #updateShown(): void {
    const wanted = this.config?.screens[this.screenIndex];
    const b = this.board;
    if (wanted && (b.boardId === null || (b.processId === wanted.processId && b.view === wanted.view))) this.shownIndex = this.screenIndex;
  }

  /** Runs the rotation while online; offline, the wall keeps what it shows and the countdown waits. */
  #scheduleRotation(): void {
    clearTimeout(this.#rotationTimer);
    const config = this.config;
    if (!config || !rotates(config) || this.ended) return this.#stopRotation();
    const periodMs = (config.rotateSeconds ?? 0) * 1000;
    // Offline, the wall keeps the board it has: the countdown waits, and starts afresh once back.
    if (this.board.status !== "online") {
      this.#rotationFrom = null;
      return;
    }
    const now = this.#now();
    if (this.#rotationFrom === null) this.#rotationFrom = { at: now, index: this.screenIndex };
    const from = this.#rotationFrom;
    const point = rotationAt(now - from.at, config.rotateSeconds, config.screens.length, from.index);
    if (point.index !== this.screenIndex) this.#show(point.index);
    this.rotation = { startedAt: now - Math.round(point.progress * periodMs), periodMs };
    // A few ms late rather than early: the timer lands in the next period.
    this.#rotationTimer = setTimeout(() => this.#scheduleRotation(), point.nextInMs + 20);
  }

  #stopRotation(): void {
    clearTimeout(this.#rotationTimer);
    this.#rotationTimer = undefined;
    this.#rotationFrom = null;
    this.rotation = null;
  }

  #onVersion(reported: unknown): void {
    const decision = versionDecision(this.#version, reported);
    if (!decision) return;
    this.#version = decision.known;
    if (!decision.reload || this.reloading) return;
    this.reloading = true;
    const reload = this.#options.reload ?? (() => location.reload());
    this.#reloadTimer = setTimeout(reload, reloadDelayMs(this.#options.random));
  }

  #onSessionEnded(reason: SessionEndReason | undefined): void {
    // "role_changed" asks to reconnect with new permissions: the reconnect does that.
    if (reason === "role_changed") return;
    this.#end(reason === "display_revoked" ? "revoked" : "ended");
  }

  /** Stops for good: no more reconnecting, no rotation, no wake lock; the page says why. */
  #end(why: WallEnd): void {
    if (this.ended) return;
    this.ended = why;
    this.#stopRotation();
    this.figures.stop();
    this.celebrations.stop();
    this.#wakeLock?.stop();
    this.board.stop();
  }

  #tick(): void {
    const now = this.#now();
    this.now = now;
    const step = shiftStep(this.#started, now);
    const next = pixelShift(step);
    if (next.x !== this.shift.x || next.y !== this.shift.y) this.shift = next;
    if (this.ended) return;
    const online = this.board.status === "online";
    if (online) {
      this.#everOnline = true;
      if (this.offlineSince !== null) this.offlineSince = null;
    } else if (this.#everOnline && this.offlineSince === null) {
      this.offlineSince = new Date(now);
    }
    // Offline the rotation waits; back online it goes on.
    if (online !== this.#wasOnline) {
      this.#wasOnline = online;
      this.#scheduleRotation();
    }
  }
}
