/**
 * The Socket.IO event maps, defined once for both sides.
 * Commands are `entity:verb` and always acknowledged; `board:event` is the broadcast.
 */
import type { Ack } from "./errors.ts";
import type { BoardEvent, BoardSnapshot, LeadCard, ResyncResult } from "./board.ts";
import type { BoardJoinInput, BoardResyncInput, LeadMoveInput } from "./schemas/board.ts";

export interface ClientToServerEvents {
  "board:join": (payload: BoardJoinInput, ack: (res: Ack<BoardSnapshot>) => void) => void;
  "board:resync": (payload: BoardResyncInput, ack: (res: Ack<ResyncResult>) => void) => void;
  "lead:move": (payload: LeadMoveInput, ack: (res: Ack<LeadCard>) => void) => void;
}

export interface ServerToClientEvents {
  "board:event": (event: BoardEvent) => void;
}

export const boardRoom = (boardId: string) => `board:${boardId}`;
