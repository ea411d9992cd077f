/**
 * Short-lived messages of the board: toasts (errors, undone moves) and highlights of
 * cards someone else just changed. Each expires on its own timer.
 */
import { SvelteMap } from "svelte/reactivity";

export interface ToastAction {
  label: string;
  run: () => void;
}

export interface Toast {
  id: number;
  kind: "error" | "info";
  text: string;
  action?: ToastAction;
}

export interface Highlight {
  text: string;
  token: number;
}

export class Notices {
  toasts = $state.raw<Toast[]>([]);
  /** Lead id → what happened to it, e.g. "moved by Mia Marketer". */
  readonly highlights = new SvelteMap<string, Highlight>();

  #counter = 0;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly toastMs = 6_000,
    private readonly highlightMs = 2_500,
  ) {}

  toast(text: string, kind: Toast["kind"] = "error", action?: ToastAction): void {
    const id = ++this.#counter;
    // At most four at a time: the newest matter.
    this.toasts = [...this.toasts, action ? { id, kind, text, action } : { id, kind, text }].slice(-4);
    // One with a button stays longer, so there is time to press it.
    this.#later(() => this.dismiss(id), action ? this.toastMs * 2 : this.toastMs);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  highlight(leadId: string, text: string): void {
    const token = ++this.#counter;
    this.highlights.set(leadId, { text, token });
    this.#later(() => {
      if (this.highlights.get(leadId)?.token === token) this.highlights.delete(leadId);
    }, this.highlightMs);
  }

  stop(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }
}
