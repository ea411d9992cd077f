/**
 * Pure rules of paged board loading. A join's snapshot carries each column's count and its
 * first page; the rest of a column arrives page by page (`board:page`) while live events keep
 * changing the board. No DOM, no Svelte, no socket.
 *
 * The invariant that makes it work: for every column, the client holds exactly the server's
 * cards up to the column's cursor (the last card a snapshot or page delivered, in column
 * order), as of the last event it applied. A snapshot establishes it; an event keeps it
 * (it carries the full card, so a card entering that range is known); a page merged by
 * `pageCardDecision` extends it.
 */
import type { BoardEvent, BoardPage, BoardSnapshot, BoardStage, LeadCard, PageCursor } from "../../../shared/board.ts";
import { compareRanks } from "../../../shared/domain/ranks.ts";
import type { BoardView } from "../../../shared/domain/views.ts";
import { sortCards } from "./board-logic.ts";

/** How far one column is loaded. */
export interface ColumnLoad {
  /** The server's count at the snapshot, adjusted by the events since (see `countChanges`). */
  total: number;
  complete: boolean;
  /** The last card the server delivered for this column (null: none yet). */
  cursor: PageCursor | null;
}

/** Lead id → seq of the event that took it off the board or out of the view. */
export type Tombstones = Map<string, number>;

/** Column order against a cursor: negative before it, 0 at it, positive after it. */
export function compareToCursor(card: Pick<LeadCard, "rank" | "id">, cursor: PageCursor): number {
  return compareRanks(card.rank, cursor.rank) || compareRanks(card.id, cursor.id);
}

/** True when the client holds every card of the column up to `card`'s place (see the invariant). */
export function isLoadedUpTo(load: ColumnLoad | undefined, card: Pick<LeadCard, "rank" | "id">): boolean {
  if (!load || load.complete) return true;
  return load.cursor !== null && compareToCursor(card, load.cursor) <= 0;
}

/**
 * How each column of a snapshot is loaded. A snapshot without `columns` (a server from before
 * paging) holds every card: all columns are complete.
 */
export function loadsOfSnapshot(snapshot: Pick<BoardSnapshot, "stages" | "leads"> & { columns?: BoardSnapshot["columns"] }): Map<string, ColumnLoad> {
  const loads = new Map<string, ColumnLoad>();
  for (const stage of snapshot.stages) {
    const cards = sortCards(snapshot.leads.filter((c) => c.stage === stage.key));
    const info = snapshot.columns?.[stage.key];
    const last = cards.at(-1);
    loads.set(stage.key, {
      total: Math.max(info?.total ?? cards.length, cards.length),
      complete: info?.complete ?? true,
      cursor: last ? { rank: last.rank, id: last.id } : null,
    });
  }
  return loads;
}

export type PageCardDecision = "take" | "removed" | "known";

/**
 * The merge rule for one card of a page read at seq `pageSeq`, given what the client has:
 * - "removed": the lead left the board or the view after the page was read (its tombstone
 *   is newer than the page): taking it would resurrect it;
 * - "known": the client has the card at the same or a newer version: every change after the
 *   join came as an event carrying the full card, so the client's copy is at least as new
 *   (or the event that makes it so is still to be applied);
 * - "take": otherwise (a card the client has not seen, or an older copy of it).
 */
export function pageCardDecision(
  current: Pick<LeadCard, "version"> | undefined,
  tombstoneSeq: number | undefined,
  pageSeq: number,
  card: Pick<LeadCard, "version">,
): PageCardDecision {
  if (tombstoneSeq !== undefined && tombstoneSeq > pageSeq) return "removed";
  if (current && current.version >= card.version) return "known";
  return "take";
}

/** Merges a page into the cards by `pageCardDecision`; returns the cards taken. */
export function mergePage(cards: Map<string, LeadCard>, tombstones: ReadonlyMap<string, number>, page: Pick<BoardPage, "seq" | "cards">): LeadCard[] {
  const taken: LeadCard[] = [];
  for (const card of page.cards) {
    if (pageCardDecision(cards.get(card.id), tombstones.get(card.id), page.seq, card) !== "take") continue;
    cards.set(card.id, card);
    taken.push(card);
  }
  return taken;
}

/** The column after a page: its cursor moves to the page's last card. */
export function afterPage(load: ColumnLoad, page: Pick<BoardPage, "cards" | "complete">): ColumnLoad {
  const last = page.cards.at(-1);
  // An empty page can only be the end; never ask for the same cursor again.
  const complete = page.complete || last === undefined;
  return { ...load, complete, cursor: last ? { rank: last.rank, id: last.id } : load.cursor };
}

/** Records the leads an event takes off the board or out of the view. */
export function recordTombstone(tombstones: Tombstones, event: BoardEvent): void {
  if (event.type === "lead.removed") tombstones.set(event.lead.id, event.seq);
  else if (event.type === "lead.left_view") tombstones.set(event.leadId, event.seq);
}

export interface CountChange {
  stage: string;
  delta: 1 | -1;
}

/**
 * What an event does to the column counts the server gave, as far as the client can tell.
 * `known` is the client's copy of the lead before the event; `loadedUpTo(card)` says whether
 * the card's new place is within its column's loaded part. Moves name both columns, so they
 * count even for cards not loaded yet. A change the client cannot place (a card it never
 * loaded leaving the view) changes nothing; a complete column counts its cards anyway.
 */
export function countChanges(
  event: BoardEvent,
  known: Pick<LeadCard, "stage"> | undefined,
  view: BoardView | null,
  loadedUpTo: (card: LeadCard) => boolean,
): CountChange[] {
  switch (event.type) {
    case "stages.changed":
      return [];
    case "lead.left_view":
      return known ? [{ stage: known.stage, delta: -1 }] : [];
    case "lead.removed":
      return [{ stage: event.lead.stage, delta: -1 }];
    case "lead.created":
      return [{ stage: event.lead.stage, delta: 1 }];
    case "lead.moved":
      return moved(event.fromStage, event.toStage);
    case "lead.scored":
      // In the sales-ready view a lead just marked sales-ready enters the view here.
      if (view === "sales_ready" && event.salesReadyMarked) return [{ stage: event.lead.stage, delta: 1 }];
      if (event.moved) return moved(event.moved.fromStage, event.moved.toStage);
      return entered(event.lead, known, loadedUpTo);
    case "lead.updated":
      if (known && known.stage !== event.lead.stage) return moved(known.stage, event.lead.stage);
      return entered(event.lead, known, loadedUpTo);
  }
}

function moved(from: string, to: string): CountChange[] {
  return from === to ? [] : [{ stage: from, delta: -1 }, { stage: to, delta: 1 }];
}

/**
 * A card the client did not hold, now at a place it has loaded: had it been in the view,
 * the client would have held it (the invariant), so it just entered the view. Beyond the
 * loaded part it may as well have been there all along: counted as already there.
 */
function entered(card: LeadCard, known: unknown, loadedUpTo: (card: LeadCard) => boolean): CountChange[] {
  return !known && loadedUpTo(card) ? [{ stage: card.stage, delta: 1 }] : [];
}

/** Applies count changes to the incomplete columns (a complete column counts its cards). */
export function applyCountChanges(loads: Map<string, ColumnLoad>, changes: readonly CountChange[]): void {
  for (const { stage, delta } of changes) {
    const load = loads.get(stage);
    if (load && !load.complete) loads.set(stage, { ...load, total: Math.max(0, load.total + delta) });
  }
}

/**
 * What a column may show: while incomplete, only the cards up to its cursor (a card that an
 * event brought in beyond it would otherwise show out of order, before cards not loaded yet),
 * plus those `keep` asks for (a pending move the user just made). `cards` is in column order.
 */
export function loadedCards(cards: readonly LeadCard[], load: ColumnLoad | undefined, keep?: (card: LeadCard) => boolean): LeadCard[] {
  if (!load || load.complete) return cards as LeadCard[];
  return cards.filter((c) => isLoadedUpTo(load, c) || (keep?.(c) ?? false));
}

/** The count a column header shows: the server's (adjusted) total while incomplete, never less than it shows. */
export function columnCount(load: ColumnLoad | undefined, shown: number): number {
  if (!load || load.complete) return shown;
  return Math.max(load.total, shown);
}

/**
 * Which column to load next: one the user is scrolling towards the end of (the latest
 * asked first), else the first incomplete one in board order; null when all are complete.
 */
export function nextColumn(
  loads: ReadonlyMap<string, ColumnLoad>,
  stages: readonly Pick<BoardStage, "key">[],
  wanted: readonly string[],
): string | null {
  const incomplete = (key: string) => stages.some((s) => s.key === key) && loads.get(key)?.complete === false;
  for (let i = wanted.length - 1; i >= 0; i--) if (incomplete(wanted[i]!)) return wanted[i]!;
  return stages.find((s) => incomplete(s.key))?.key ?? null;
}
