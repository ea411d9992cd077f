/**
 * The headline figures of the board on the wall: asked for after every join or catch-up (so
 * after a reconnect too), every minute, and a little after changes that may move them. The
 * day and week are the TV's own (its time zone is the room's).
 */
import type { BoardEvent } from "../../../../shared/board.ts";
import type { WallFigures } from "../../../../shared/wall.ts";
import type { BoardState } from "../board.svelte.ts";
import { figuresRefreshMs, periodStarts } from "./figures.ts";

/** After a change, wait this long before asking: a burst of events costs one request. */
const afterEventMs = 5_000;
const figuresTimeoutMs = 15_000;

/** Changes that can move a figure: a new lead, a move, a lead made sales-ready or accepted. */
const counts = (event: BoardEvent) => event.type === "lead.created" || event.type === "lead.moved" || event.type === "lead.scored" || event.type === "lead.updated";

export class WallFiguresState {
  /** The last figures received, for the board they are of. */
  figures = $state.raw<WallFigures | null>(null);
  readonly #board: BoardState;
  readonly #now: () => number;
  #interval: ReturnType<typeof setInterval> | undefined;
  #soon: ReturnType<typeof setTimeout> | undefined;
  #unsubscribe: Array<() => void> = [];
  #asking = false;
  #warned = false;

  constructor(board: BoardState, now: () => number = Date.now) {
    this.#board = board;
    this.#now = now;
  }

  /** The figures of the board on screen, or null (none yet, or of a board no longer shown). */
  get current(): WallFigures | null {
    const f = this.figures;
    return f && f.boardId === this.#board.boardId ? f : null;
  }

  start(): void {
    this.#unsubscribe = [
      this.#board.onSynced(() => void this.refresh()),
      this.#board.onApplied((event) => {
        if (counts(event) && this.#soon === undefined) this.#soon = setTimeout(() => void this.refresh(), afterEventMs);
      }),
    ];
    this.#interval = setInterval(() => void this.refresh(), figuresRefreshMs);
  }

  stop(): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    clearInterval(this.#interval);
    clearTimeout(this.#soon);
    this.#soon = undefined;
  }

  /** Asks for the figures of the board on screen; a failure keeps the last ones (they say when they are from). */
  async refresh(): Promise<void> {
    clearTimeout(this.#soon);
    this.#soon = undefined;
    const boardId = this.#board.boardId;
    if (boardId === null || this.#board.status !== "online" || this.#asking) return;
    this.#asking = true;
    try {
      const res = await this.#board.request<WallFigures>("wall:figures", { boardId, ...periodStarts(new Date(this.#now())) }, figuresTimeoutMs);
      if (res.ok && res.data.boardId === this.#board.boardId) this.figures = res.data;
      else if (!res.ok) this.#warn(res.error.message);
    } catch {
      // Offline or unanswered: the next sync or the next minute asks again.
    } finally {
      this.#asking = false;
    }
  }

  #warn(message: string): void {
    if (this.#warned) return;
    this.#warned = true;
    console.info(`[wall] Headline figures unavailable: ${message}`);
  }
}
