/**
 * The Socket.IO event maps, defined once for both sides.
 * Commands are `entity:verb` and always acknowledged; `board:event` is the broadcast.
 */
import type { Ack } from "./errors.ts";
import type { BoardEvent, BoardSnapshot, LeadCard, ResyncResult } from "./board.ts";
import type { ImportView } from "./schemas/imports.ts";
import type { BoardJoinInput, BoardResyncInput, LeadMoveInput } from "./schemas/board.ts";

export interface ClientToServerEvents {
  "board:join": (payload: BoardJoinInput, ack: (res: Ack<BoardSnapshot>) => void) => void;
  "board:resync": (payload: BoardResyncInput, ack: (res: Ack<ResyncResult>) => void) => void;
  "lead:move": (payload: LeadMoveInput, ack: (res: Ack<LeadCard>) => void) => void;
}

export interface ServerToClientEvents {
  "board:event": (event: BoardEvent) => void;
  /** Progress of an import, to the user who started it, after each committed batch. */
  "import:progress": (progress: ImportView) => void;
}

export const boardRoom = (boardId: string) => `board:${boardId}`;
/** Every socket of one user, for messages meant for that person only. */
export const userRoom = (userId: string) => `user:${userId}`;
