/**
 * What each column of the wall shows: the screen's filters applied to the loaded cards, the
 * first few of them (a TV shows the top of each column; nobody scrolls it) and the column's
 * total. Pure.
 */
import type { BoardStage, LeadCard } from "../../../../shared/board.ts";
import { activeFilterCount, matchesFilters, type BoardFilters } from "../filters.ts";

/** More than fit on a 4K screen; the rest of a column is counted in its header, not drawn. */
export const cardsPerColumn = 40;

export interface WallColumn {
  stage: BoardStage;
  cards: LeadCard[];
  /** How many leads the column holds (for the screen's filters). */
  total: number;
}

/**
 * One column. `serverTotal` is the board's count of the column (the server's `columns[stage].total`
 * while the column loads, kept up to date by events; the cards once complete). A screen with
 * filters counts the loaded cards that pass them: the server's total is of the whole view.
 * A wall shows no "me": an owner filter of "me" matches nobody.
 */
export function wallColumn(stage: BoardStage, loaded: readonly LeadCard[], filters: BoardFilters, serverTotal: number, limit = cardsPerColumn): WallColumn {
  const filtered = activeFilterCount(filters) > 0;
  const shown = filtered ? loaded.filter((c) => matchesFilters(c, filters, null)) : [...loaded];
  return { stage, cards: shown.slice(0, Math.max(0, limit)), total: filtered ? shown.length : Math.max(serverTotal, shown.length) };
}

/** The sum of the columns' totals, for the header ("128 leads"). */
export function boardTotal(columns: readonly WallColumn[]): number {
  return columns.reduce((sum, c) => sum + c.total, 0);
}

/**
 * Whether a lead belongs on the screen for a celebration: its filters, except "sales-ready
 * or not" (a screen of leads still to qualify still cheers the one that just got there).
 */
export function passesScreenFilters(card: LeadCard, filters: BoardFilters): boolean {
  const { salesReady: _ignored, ...rest } = filters;
  return matchesFilters(card, rest, null);
}
