/**
 * Loads the rest of a big board after its snapshot: the columns the snapshot left
 * incomplete, one `board:page` at a time, in the background; the column the user scrolls
 * towards the end of goes first. Pauses while the board syncs or the socket is down, and
 * starts over with every snapshot. The merge and count rules are in board-pages.ts.
 */
import { SvelteMap, SvelteSet } from "svelte/reactivity";
import type { BoardEvent, BoardPage, BoardSnapshot, BoardStage, LeadCard } from "../../../shared/board.ts";
import type { BoardView } from "../../../shared/domain/views.ts";
import type { Ack } from "../../../shared/errors.ts";
import type { BoardPageInput } from "../../../shared/schemas/board.ts";
import {
  afterPage,
  applyCountChanges,
  columnCount,
  countChanges,
  isLoadedUpTo,
  loadedCards,
  loadsOfSnapshot,
  mergePage,
  nextColumn,
  recordTombstone,
  type ColumnLoad,
  type Tombstones,
} from "./board-pages.ts";
import { delayFor } from "./reconnect.ts";

/** Cards per background page: few round trips, each answer still small (~300 KB). */
export const backgroundPageSize = 500;
const pageTimeoutMs = 20_000;

/** The board being loaded (BoardState), read when needed. */
export interface PagerHost {
  readonly boardId: string | null;
  readonly view: BoardView | null;
  readonly stages: readonly BoardStage[];
  /** The board's cards: pages are merged into them. */
  readonly cards: Map<string, LeadCard>;
  /** Rejects when offline or unanswered in time. */
  request<T>(event: "board:page", payload: BoardPageInput, timeoutMs: number): Promise<Ack<T>>;
}

export class BoardPager {
  /** Per stage key: how far the column is loaded. */
  readonly loads = new SvelteMap<string, ColumnLoad>();
  /** Some column is still incomplete. */
  readonly loading = $derived([...this.loads.values()].some((l) => !l.complete));

  readonly #host: PagerHost;
  /** Cards this user just put into a column still loading: shown even past what is loaded. */
  readonly #placed = new SvelteSet<string>();
  #tombstones: Tombstones = new Map();
  /** Columns the user scrolled near the loaded end of, the latest last. */
  #wanted: string[] = [];
  /** Bumped by every reset and pause: an answer from an older generation is ignored. */
  #gen = 0;
  /** Not paused (the board is synced and the socket up). */
  #active = false;
  #running = false;
  /** Failed pages in a row: retries back off like reconnects. */
  #failures = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(host: PagerHost) {
    this.#host = host;
  }

  /** A snapshot was loaded: start over from its first pages (loading starts on `resume`). */
  reset(snapshot: BoardSnapshot): void {
    this.pause();
    this.loads.clear();
    for (const [key, load] of loadsOfSnapshot(snapshot)) this.loads.set(key, load);
    this.#tombstones = new Map();
    this.#wanted = [];
    this.#placed.clear();
  }

  /** Stops asking (a sync or a disconnect); answers still under way are dropped. */
  pause(): void {
    clearTimeout(this.#retry);
    this.#gen++;
    this.#active = false;
    this.#running = false;
  }

  /** The board is in sync again: load what is missing. */
  resume(): void {
    this.#active = true;
    this.#kick();
  }

  /** The user is near the loaded end of a column: load it next. */
  needMore(stageKey: string): void {
    if (this.loads.get(stageKey)?.complete !== false) return;
    this.#wanted = [...this.#wanted.filter((k) => k !== stageKey), stageKey];
    this.#kick();
  }

  /** The user is moving this card: keep it in view wherever it lands. */
  place(leadId: string): void {
    this.#placed.add(leadId);
  }

  isComplete(stageKey: string): boolean {
    return this.loads.get(stageKey)?.complete !== false;
  }

  /** What the column may show (in order): while incomplete, the cards up to what is loaded. */
  visible(stageKey: string, cards: readonly LeadCard[], keep?: (card: LeadCard) => boolean): LeadCard[] {
    return loadedCards(cards, this.loads.get(stageKey), (c) => this.#placed.has(c.id) || (keep?.(c) ?? false));
  }

  /** The column's count: the server's total while incomplete, else the cards shown. */
  countOf(stageKey: string, shown: number): number {
    return columnCount(this.loads.get(stageKey), shown);
  }

  /** Call before applying each event (live or replayed): tombstones and column counts. */
  noteEvent(event: BoardEvent): void {
    if (!this.#incomplete()) return;
    const id = event.type === "lead.left_view" ? event.leadId : "lead" in event ? event.lead.id : null;
    const known = id === null ? undefined : this.#host.cards.get(id);
    recordTombstone(this.#tombstones, event);
    const loadedUpTo = (card: LeadCard) => isLoadedUpTo(this.loads.get(card.stage), card);
    applyCountChanges(this.loads, countChanges(event, known, this.#host.view, loadedUpTo));
  }

  #incomplete(): boolean {
    for (const load of this.loads.values()) if (!load.complete) return true;
    return false;
  }

  #kick(): void {
    if (!this.#active || this.#running) return;
    this.#running = true;
    void this.#loop(this.#gen);
  }

  /** One page at a time, until every column is complete or this generation ends. */
  async #loop(gen: number): Promise<void> {
    while (gen === this.#gen) {
      const stage = nextColumn(this.loads, this.#host.stages, this.#wanted);
      if (stage === null) {
        // Nothing in flight can be older than what is loaded now: the tombstones are done.
        this.#tombstones = new Map();
        this.#wanted = [];
        break;
      }
      if (!(await this.#loadPage(gen, stage))) {
        if (gen !== this.#gen) return;
        this.#running = false;
        this.#retry = setTimeout(() => {
          if (gen === this.#gen) this.#kick();
        }, delayFor(this.#failures++));
        return;
      }
    }
    if (gen === this.#gen) this.#running = false;
  }

  /** Loads the next page of a column; false when it should be retried later. */
  async #loadPage(gen: number, stage: string): Promise<boolean> {
    const boardId = this.#host.boardId;
    const load = this.loads.get(stage);
    if (boardId === null || !load) return false;
    const payload: BoardPageInput = { boardId, stage, limit: backgroundPageSize, ...(load.cursor ? { after: load.cursor } : {}) };
    let res: Ack<BoardPage>;
    try {
      res = await this.#host.request<BoardPage>("board:page", payload, pageTimeoutMs);
    } catch {
      return false;
    }
    if (gen !== this.#gen) return true;
    const current = this.loads.get(stage);
    if (!current) return true;
    if (!res.ok) {
      // The stage is gone, or the request can never succeed: stop asking for this column.
      if (res.error.code !== "NOT_FOUND" && res.error.code !== "INVALID_INPUT") return false;
      this.loads.set(stage, { ...current, complete: true });
      return true;
    }
    this.#failures = 0;
    mergePage(this.#host.cards, this.#tombstones, res.data);
    this.loads.set(stage, afterPage(current, res.data));
    return true;
  }
}
