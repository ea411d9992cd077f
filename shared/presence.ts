/**
 * Presence: who is looking at a board, and who has a lead open or is dragging it.
 * A soft-lock indicator, never a lock. Ephemeral: kept by the server nodes, not the database.
 */
import type { Role } from "./schemas/common.ts";

/** What a person is doing with one lead right now. */
export type PresenceActivityKind = "open" | "drag";

export interface PresenceActivity {
  leadId: string;
  kind: PresenceActivityKind;
}

/** One person on a board (several tabs of one user are one entry). */
export interface PresenceEntry {
  userId: string;
  name: string;
  role: Role;
  /** Open connections of this user on this board, across server nodes. */
  connections: number;
  /** The leads this person has open or is dragging (one per connection at most). */
  activities: PresenceActivity[];
}

/** The whole presence of a board, sent whenever it changes (coalesced). */
export interface BoardPresence {
  boardId: string;
  viewers: PresenceEntry[];
}

/** Someone else holding a lead, as its card shows it ("Mia has it open", "Mia is dragging it"). */
export interface LeadHolder {
  userId: string;
  name: string;
  kind: PresenceActivityKind;
}
