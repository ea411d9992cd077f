/**
 * The board's filters as state, kept in the page's query string so a view can be shared
 * and bookmarked: read at start and on popstate, written with history.replaceState on
 * every change (the search text a moment after typing stops). Also keeps which board
 * (`process=`, `view=`) the link opens.
 */
import type { BoardPresenceState } from "./presence.svelte.ts";
import { createContext } from "svelte";
import type { LeadCard } from "../../../shared/board.ts";
import type { BoardView } from "../../../shared/domain/views.ts";
import type { ActivityFeed } from "./activity.svelte.ts";
import type { BoardState } from "./board.svelte.ts";
import { debounce } from "./debounce.ts";
import {
  activeFilterCount,
  cleanFilters,
  filterOptions,
  filtersFromSearch,
  matchesFilters,
  sameFilters,
  searchWithFilters,
  searchWithTarget,
  targetFromSearch,
  type BoardFilters,
  type TargetParams,
} from "./filters.ts";
import type { QueryStore } from "./scores.svelte.ts";

export interface FilterSource {
  /** Who "me" is. */
  userId: string;
  /** The views this user may open: a link naming another one is ignored. */
  views: readonly BoardView[];
  /** The cards on the board now. */
  cards: () => Iterable<LeadCard>;
  /** The model whose grade the cards show (null: the best). */
  modelId: () => string | null;
  /** The board's cards are still arriving (a big board loads after its first pages). */
  loading?: () => boolean;
}

/** The page's own query string. */
export const pageQuery: QueryStore = {
  read: () => (typeof location === "undefined" ? "" : location.search),
  write: (search) => {
    const url = `${location.pathname}${search}${location.hash}`;
    if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(history.state, "", url);
  },
};

export const textDelayMs = 250;

type Patch = { [K in keyof BoardFilters]?: BoardFilters[K] | undefined };

export class BoardFilterState {
  /** The filters the board applies. */
  filters = $state.raw<BoardFilters>({});
  /** What the search box shows; becomes `filters.text` once typing pauses. */
  draftText = $state("");

  readonly #source: FilterSource;
  readonly #query: QueryStore;
  /** Applies what was typed without touching the box (a trailing space being typed stays). */
  readonly #commitText = debounce((text: string) => this.#apply({ ...this.filters, text }), textDelayMs);

  readonly active = $derived(activeFilterCount(this.filters) > 0);
  readonly options = $derived.by(() => filterOptions(this.#source.cards(), this.filters, this.#source.modelId()));
  /** How many cards the board has loaded, how many of them pass the filters, and whether more are coming. */
  readonly counts = $derived.by(() => {
    let total = 0;
    let shown = 0;
    for (const card of this.#source.cards()) {
      total++;
      if (this.matches(card)) shown++;
    }
    return { total, shown, loading: this.#source.loading?.() ?? false };
  });

  constructor(source: FilterSource, query: QueryStore = pageQuery) {
    this.#source = source;
    this.#query = query;
    this.#load();
  }

  /** Whether the card passes the filters (reactive: read while rendering). */
  matches(card: LeadCard): boolean {
    return matchesFilters(card, this.filters, this.#source.userId, this.#source.modelId());
  }

  /** Changes some filters (undefined removes one) and writes the URL. */
  update(patch: Patch): void {
    this.#apply({ ...this.filters, ...patch });
    if ("text" in patch) this.#syncDraft();
  }

  /** Replaces every filter (a saved view, "Clear filters") and writes the URL. */
  set(filters: BoardFilters): void {
    this.#apply(filters);
    this.#syncDraft();
  }

  clear(): void {
    this.set({});
  }

  /** The search box changed: shown at once, applied when typing pauses. */
  setText(text: string): void {
    this.draftText = text;
    this.#commitText(text);
  }

  /** Escape in the search box: clears it at once. */
  clearText(): void {
    this.update({ text: undefined });
  }

  /** The board the page's link names (`process=`, `view=`); absent parts are the defaults. */
  readTarget(): TargetParams {
    return targetFromSearch(this.#query.read(), this.#source.views);
  }

  /** Keeps the link naming the board shown (called whenever the pickers change the target). */
  writeTarget(target: TargetParams): void {
    this.#query.write(searchWithTarget(this.#query.read(), target));
  }

  /** Follows the browser's back and forward buttons; `onTarget` switches the board. Returns the stop. */
  start(onTarget: (target: TargetParams) => void): () => void {
    const onPop = (): void => {
      this.#load();
      const t = this.readTarget();
      // Explicit keys: an absent part means the default board, not "keep the current one".
      onTarget({ processId: t.processId, view: t.view });
    };
    window.addEventListener("popstate", onPop);
    return () => {
      window.removeEventListener("popstate", onPop);
      this.#commitText.cancel();
    };
  }

  #apply(filters: BoardFilters): void {
    const next = cleanFilters(filters);
    if (sameFilters(next, this.filters)) return;
    this.filters = next;
    this.#query.write(searchWithFilters(this.#query.read(), next));
  }

  #syncDraft(): void {
    this.#commitText.cancel();
    this.draftText = this.filters.text ?? "";
  }

  #load(): void {
    this.#commitText.cancel();
    const next = filtersFromSearch(this.#query.read());
    if (!sameFilters(next, this.filters)) this.filters = next;
    this.draftText = next.text ?? "";
  }
}

/** What the board's toolbar reaches without Board.svelte passing it on: the filters and the feed. */
export interface BoardTools {
  filters: BoardFilterState;
  activity: ActivityFeed;
  /** Who else is on the board (optional so components can be rendered without it). */
  presence?: BoardPresenceState;
}

export const [getBoardTools, setBoardTools, hasBoardTools] = createContext<BoardTools>();

type LinkedBoard = Pick<BoardState, "target" | "joinError" | "joined" | "switchTo" | "toast">;

/**
 * Opens the board the page's link names (`process=`, `view=`) and keeps the link naming the
 * board shown as the pickers change it (or a refused switch reverts it). When the named
 * board cannot be opened (a deleted process), the default board is shown instead, with a
 * message. Call while a component initialises, before the board starts.
 */
export function followBoardLink(board: LinkedBoard, filters: BoardFilterState): void {
  let fromLink = filters.readTarget();
  const named = (t: TargetParams) => t.processId !== undefined || t.view !== undefined;
  if (named(fromLink)) board.switchTo(fromLink);
  $effect(() => {
    if (!board.joinError || board.joined || !named(fromLink)) return;
    fromLink = {};
    board.toast("The board named in this link cannot be opened; showing the default board instead");
    board.switchTo({ processId: undefined, view: undefined });
  });
  $effect(() => filters.writeTarget({ processId: board.target.processId, view: board.target.view }));
}
