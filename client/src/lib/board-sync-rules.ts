/**
 * The rules BoardState follows to stay in step with the server: which board and view to
 * ask for, when a move's answer may still touch the cards, and what a snapshot resets.
 * Pure (no socket, no Svelte), so they are unit tested in plain Node.
 */
import type { BoardSnapshot, LeadCard } from "../../../shared/board.ts";
import type { BoardView } from "../../../shared/domain/views.ts";
import type { Role } from "../../../shared/schemas/common.ts";
import { upsertCard } from "./board-logic.ts";
import type { BoardSocket } from "./connection.svelte.ts";

export interface PendingMove {
  original: LeadCard;
  optimistic: LeadCard;
}

export interface BoardOptions {
  userId: string;
  /** The session is gone: the app shows the login page. */
  onUnauthenticated: () => void;
  /** A socket to use instead of connecting to the page's origin (tests). */
  socket?: BoardSocket;
  /** Opens a lead so the user can supply what a refused move lacked (a parent or an owner). */
  onFillIn?: (leadId: string) => void;
  /** The signed-in user's role: sales roles are alerted of sales-ready leads. */
  role?: Role;
  /** Opens a lead from a toast (e.g. a sales-ready alert). */
  onOpenLead?: (leadId: string) => void;
}

/** Which board and view to join; absent parts are the server's defaults. */
export interface BoardTarget {
  processId?: string;
  view?: BoardView;
}

/** Both name the same board and view (an absent part means the server's default in both). */
export function sameTarget(a: BoardTarget, b: BoardTarget): boolean {
  return a.processId === b.processId && a.view === b.view;
}

/**
 * What a (re)connection or a retry sends: a join when nothing is shown yet or the pickers
 * name another board or view than the one shown (a switch made offline, or while a sync was
 * under way), else a resync of what is shown.
 */
export function syncKind(shown: BoardTarget | null, target: BoardTarget): "join" | "resync" {
  return shown === null || !sameTarget(shown, target) ? "join" : "resync";
}

/**
 * Puts the card a move's answer carries (the ok ack's, or a CONFLICT's current card) into the
 * board, only while the lead is still on it. The server sends a viewer `lead.left_view` or
 * `lead.removed` before the answer, and a snapshot loaded meanwhile (another board or view, or
 * a resync) is newer than the answer too: re-adding the card would show a lead this view no
 * longer holds. Returns whether the card was taken.
 */
export function settleServerCard(cards: Map<string, LeadCard>, card: LeadCard): boolean {
  if (!cards.has(card.id)) return false;
  return upsertCard(cards, card);
}

/** A snapshot of another board or view: what was remembered about the old one's leads goes. */
export function isAnotherBoard(boardId: string | null, view: BoardView | null, snapshot: BoardSnapshot): boolean {
  return snapshot.boardId !== boardId || (snapshot.view ?? null) !== view;
}

/** Refusals that mean "not now" (busy, superseded, too many commands): retry with backoff rather than rejoin. */
export function retryLater(code: string): boolean {
  return code === "UNAVAILABLE" || code === "RATE_LIMITED";
}
