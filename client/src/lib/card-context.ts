/**
 * What every card on the board shares (the clock, the stages, who may drag, and the
 * board's handlers), handed down as a context so columns do not pass it card by card.
 * The board implements it with getters over its state, so reads stay reactive.
 */
import { createContext } from "svelte";
import type { BoardStage } from "../../../shared/board.ts";
import type { Principal } from "../../../shared/domain/permissions.ts";
import type { LeadHolder } from "../../../shared/presence.ts";
import type { BoardScores } from "./scores.svelte.ts";

export interface CardContext {
  /** The server's clock in ms, for the time in stage. */
  readonly now: number;
  readonly stages: readonly BoardStage[];
  readonly canDrag: boolean;
  /** Who moves cards here: the role rules (gates, stages) shape the hints and the menu. */
  readonly mover: Principal;
  readonly scores: BoardScores;
  /** The card being dragged or carried by keyboard, if any. */
  readonly carriedId: string | null;
  /** A touch or pen press on this card is being held (it is about to lift). */
  readonly pressingId: string | null;
  pendingOf(leadId: string): boolean;
  /** What someone else just did to the card, e.g. "moved by Mia Marketer". */
  highlightOf(leadId: string): string | null;
  holdersOf(leadId: string): LeadHolder[];
  press(leadId: string, event: PointerEvent, card: HTMLElement): void;
  key(leadId: string, event: KeyboardEvent): void;
  blur(leadId: string, event: FocusEvent): void;
  open(leadId: string, section?: "parents"): void;
  /** The "Move to stage…" menu: to the end of that stage's column. */
  moveTo(leadId: string, stageKey: string): void;
}

/**
 * The controls inside a card, with the popups they open there: a press on one never starts a
 * drag and a click on one never opens the lead. The card's own handle (the topic button,
 * `data-card-handle`) is the exception for presses: dragging from the topic moves the card.
 */
export const cardControls = "button, a, input, select, textarea, [role='menu'], [role='tooltip']";

export const [getCardContext, setCardContext] = createContext<CardContext>();
