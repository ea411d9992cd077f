/**
 * The Socket.IO event maps, defined once for both sides.
 * Commands are `entity:verb` and always acknowledged; `board:event` is the broadcast.
 */
import type { Ack } from "./errors.ts";
import type { BoardActivity, BoardEvent, BoardPage, BoardSnapshot, LeadCard, ResyncResult } from "./board.ts";
import type { BoardPresence } from "./presence.ts";
import type { ImportView } from "./schemas/imports.ts";
import type {
  BoardActivityInput,
  BoardJoinInput,
  BoardPageInput,
  BoardResyncInput,
  LeadMoveInput,
  PresenceSetInput,
} from "./schemas/board.ts";

export interface ClientToServerEvents {
  "board:join": (payload: BoardJoinInput, ack: (res: Ack<BoardSnapshot>) => void) => void;
  "board:resync": (payload: BoardResyncInput, ack: (res: Ack<ResyncResult>) => void) => void;
  /** The next cards of one column of a joined board after a cursor, filtered for the socket's view. */
  "board:page": (payload: BoardPageInput, ack: (res: Ack<BoardPage>) => void) => void;
  "lead:move": (payload: LeadMoveInput, ack: (res: Ack<LeadCard>) => void) => void;
  /** Recent activity of a joined board for the feed, filtered for the socket's view. */
  "board:activity": (payload: BoardActivityInput, ack: (res: Ack<BoardActivity>) => void) => void;
  /** What this connection is doing on a joined board (drawer open, dragging, nothing). */
  "presence:set": (payload: PresenceSetInput, ack: (res: Ack<BoardPresence>) => void) => void;
}

export interface ServerToClientEvents {
  "board:event": (event: BoardEvent) => void;
  /** Progress of an import, to the user who started it, after each committed batch. */
  "import:progress": (progress: ImportView) => void;
  /** Who is on the board and what they hold, whenever it changes (coalesced, across nodes). */
  "board:presence": (presence: BoardPresence) => void;
}

export const boardRoom = (boardId: string) => `board:${boardId}`;
/** Every socket of one user, for messages meant for that person only. */
export const userRoom = (userId: string) => `user:${userId}`;
