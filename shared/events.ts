/**
 * The Socket.IO event maps, defined once for both sides.
 * Commands are `entity:verb` and always acknowledged; `board:event` is the broadcast.
 */
import type { Ack } from "./errors.ts";
import type { BoardActivity, BoardEvent, BoardPage, BoardSnapshot, LeadCard, ResyncResult } from "./board.ts";
import type { BoardPresence } from "./presence.ts";
import type { WallConfig } from "./schemas/display-tokens.ts";
import type { WallFigures, WallFiguresInput } from "./wall.ts";
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
  /** Headline figures of a joined board (new today, sales-ready today, this week's conversions). */
  "wall:figures": (payload: WallFiguresInput, ack: (res: Ack<WallFigures>) => void) => void;
}

/** Why the server ended a connection on purpose; the client shows it and does not reconnect. */
export type SessionEndReason = "signed_out" | "deactivated" | "role_changed" | "display_revoked" | "key_revoked" | "expired";

export interface ServerToClientEvents {
  "board:event": (event: BoardEvent) => void;
  /** Progress of an import, to the user who started it, after each committed batch. */
  "import:progress": (progress: ImportView) => void;
  /** Who is on the board and what they hold, whenever it changes (coalesced, across nodes). */
  "board:presence": (presence: BoardPresence) => void;
  /** Sent on connecting: the client build the server serves; a wall reloads itself when its own differs. */
  "server:version": (info: { clientVersion: string }) => void;
  /** To a wall display on connecting: its screens and options. */
  "wall:config": (config: WallConfig) => void;
  /**
   * Just before the server disconnects this socket on purpose (logout, deactivation, a role
   * change, a revoked display). "role_changed" means: reconnect, your permissions changed.
   */
  "session:ended": (info: { reason: SessionEndReason }) => void;
}

export const boardRoom = (boardId: string) => `board:${boardId}`;
/** Every socket of one user, for messages meant for that person only. */
export const userRoom = (userId: string) => `user:${userId}`;
/** Every socket of one sign-in (session), so logout ends exactly those. */
export const sessionRoom = (sessionId: string) => `session:${sessionId}`;
/** Every socket of one wall-display token, so revoking it disconnects the display. */
export const displayRoom = (tokenId: string) => `display:${tokenId}`;
/** Every socket opened with one API key, so revoking it ends them. */
export const apiKeyRoom = (keyId: string) => `api-key:${keyId}`;
