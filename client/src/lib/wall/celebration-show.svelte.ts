/**
 * The celebrations on screen: one at a time for a few seconds each, the others waiting in a
 * short queue, with an optional chime.
 */
import { enqueueCelebration, type Celebration } from "./celebrations.ts";

/** Long enough to be read from the back of the room. */
export const celebrationShowMs = 7_000;
/** A breath between two banners, so each one reads as news. */
const gapMs = 600;

export class CelebrationShow {
  current = $state.raw<Celebration | null>(null);
  /** Bumped with every banner shown, so two banners for one lead still restart the animation. */
  shown = $state(0);
  #queue: Celebration[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #showMs: number;
  readonly #onShow: (c: Celebration) => void;

  constructor(options: { showMs?: number; onShow?: (c: Celebration) => void } = {}) {
    this.#showMs = options.showMs ?? celebrationShowMs;
    this.#onShow = options.onShow ?? (() => {});
  }

  get waiting(): number {
    return this.#queue.length;
  }

  add(celebration: Celebration): void {
    const now = this.current;
    if (now && now.leadId === celebration.leadId && now.kind === celebration.kind) return;
    if (now === null && this.#timer === undefined) return this.#show(celebration);
    this.#queue = enqueueCelebration(this.#queue, celebration);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
    this.current = null;
  }

  #show(celebration: Celebration): void {
    this.current = celebration;
    this.shown++;
    this.#onShow(celebration);
    this.#timer = setTimeout(() => {
      this.current = null;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        const next = this.#queue.shift();
        if (next) this.#show(next);
      }, gapMs);
    }, this.#showMs);
  }
}
