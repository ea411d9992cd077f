/**
 * FLIP animation of cards that other people's changes moved: measure where every rendered
 * card is before the change reaches the DOM, and after it, play each one from its old
 * place to its new one (across columns too). Skipped when the user prefers reduced motion.
 */
import { tick } from "svelte";
import { flipDelta, type Point } from "./drag-logic.ts";

const cardSelector = '[data-testid="lead-card"][data-lead-id]';
const durationMs = 320;

function reducedMotion(): boolean {
  return typeof matchMedia === "function" && matchMedia("(prefers-reduced-motion: reduce)").matches;
}

function positions(root: HTMLElement): Map<string, Point> {
  const out = new Map<string, Point>();
  for (const el of root.querySelectorAll<HTMLElement>(cardSelector)) {
    const id = el.dataset.leadId;
    if (!id) continue;
    const r = el.getBoundingClientRect();
    out.set(id, { x: r.left, y: r.top });
  }
  return out;
}

export class Flipper {
  readonly #root: () => HTMLElement | null;
  /** The card under the user's own pointer or keyboard: it never animates. */
  readonly #skip: () => string | null;
  #before: Map<string, Point> | null = null;

  constructor(root: () => HTMLElement | null, skip: () => string | null) {
    this.#root = root;
    this.#skip = skip;
  }

  /**
   * Call right after state changed and before Svelte updates the DOM (synchronously in the
   * event handler): the DOM still shows the old places. Several changes in one turn share one measure.
   */
  capture(): void {
    if (this.#before || reducedMotion()) return;
    const root = this.#root();
    if (!root) return;
    this.#before = positions(root);
    void tick().then(() => this.#play());
  }

  #play(): void {
    const before = this.#before;
    this.#before = null;
    const root = this.#root();
    if (!before || !root) return;
    const skip = this.#skip();
    for (const el of root.querySelectorAll<HTMLElement>(cardSelector)) {
      const id = el.dataset.leadId;
      const from = id ? before.get(id) : undefined;
      if (!id || !from || id === skip) continue;
      const r = el.getBoundingClientRect();
      const delta = flipDelta(from, { x: r.left, y: r.top });
      if (!delta) continue;
      el.animate([{ transform: `translate(${delta.x}px, ${delta.y}px)` }, { transform: "none" }], {
        duration: durationMs,
        easing: "cubic-bezier(0.2, 0, 0, 1)",
      });
    }
  }
}
