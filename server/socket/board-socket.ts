import type { Logger } from "pino";
import type { Server, Socket } from "socket.io";
import type { z } from "zod";
import type { BoardView } from "../../shared/domain/views.ts";
import type { PresenceActivity } from "../../shared/presence.ts";
import { DomainError } from "../../shared/errors.ts";
import type { WallConfig } from "../../shared/schemas/display-tokens.ts";
import { wallFiguresInput, type WallFigures, type WallFiguresInput } from "../../shared/wall.ts";
import { apiKeyRoom, displayRoom, sessionRoom, userRoom, type ClientToServerEvents, type ServerToClientEvents } from "../../shared/events.ts";
import { boardActivityInput, boardJoinInput, boardPageInput, boardResyncInput, leadMoveInput } from "../../shared/schemas/board.ts";
import type { Actor } from "../services/actor.ts";
import { userActor, sessionCookieName, type AuthService } from "../services/auth-service.ts";
import type { BoardService } from "../services/board-service.ts";
import type { LeadService } from "../services/lead-service.ts";
import { readCookie } from "../http/cookies.ts";
import { toErrorBody } from "../http/errors.ts";
import { command, requireDisplayScope, type CommandDeps, type CommandName } from "./commands.ts";
import { SyncLimiter } from "./sync-limiter.ts";
import { viewRooms } from "./view-rooms.ts";

export interface SocketData {
  actor: Actor;
  /** The view this socket watches on each board it joined. */
  views: Record<string, BoardView>;
  /** What this socket is doing on each board it is on (presence); kept here so fetchSockets sees it on every node. */
  presence?: Record<string, PresenceActivity | null>;
  /** A wall display's screens and options (display sockets only). */
  wall?: WallConfig;
}

export type BoardServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type BoardSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** How a socket handshake proves who it is, besides the session cookie. */
export interface SocketAuthenticators {
  /** `auth.token`: an API key (as `Authorization: Bearer`). */
  apiKey?: (token: string) => Promise<Actor | undefined>;
  /** `auth.displayToken`: a wall display's token. */
  display?: (token: string) => Promise<{ actor: Actor; config: WallConfig } | undefined>;
}

interface Deps extends CommandDeps {
  auth: AuthService;
  boards: BoardService;
  leads: LeadService;
  now: () => Date;
  authenticate?: SocketAuthenticators;
  /** Headline figures for walls (`wall:figures`). */
  figures?: (actor: Actor, input: WallFiguresInput) => Promise<WallFigures>;
  /** The client build this server serves, sent on connecting so walls reload after a deploy. */
  clientVersion?: string;
  /** Admission limit for joins, resyncs and pages (a restart brings everyone back at once); default 8 at a time. */
  syncLimiter?: SyncLimiter;
}

const refuse = (code: "UNAUTHENTICATED", message: string) => Object.assign(new Error(code), { data: { code, message } });

/** Who the handshake says it is: a wall display token, an API key, or the session cookie, in that order. */
async function identify(
  socket: BoardSocket,
  deps: Deps,
): Promise<{ actor: Actor; rooms: string[]; config?: WallConfig } | undefined> {
  const auth = (socket.handshake.auth ?? {}) as { token?: unknown; displayToken?: unknown };
  if (typeof auth.displayToken === "string" && auth.displayToken) {
    const display = await deps.authenticate?.display?.(auth.displayToken);
    if (!display) return undefined;
    const rooms = display.actor.display ? [displayRoom(display.actor.display.tokenId)] : [];
    return { actor: display.actor, rooms, config: display.config };
  }
  if (typeof auth.token === "string" && auth.token) {
    const actor = await deps.authenticate?.apiKey?.(auth.token);
    return actor ? { actor, rooms: actor.apiKeyId ? [apiKeyRoom(actor.apiKeyId)] : [] } : undefined;
  }
  const token = readCookie(socket.handshake.headers.cookie, sessionCookieName);
  const session = token ? await deps.auth.sessionForToken(token, deps.now()) : undefined;
  if (!session) return undefined;
  const actor = { ...userActor(session.user), sessionId: session.sessionId };
  return { actor, rooms: [userRoom(session.user.id), sessionRoom(session.sessionId)] };
}

/**
 * Moves a socket into the rooms of one view of a board, out of any other view of it and out
 * of every other board: a connection shows one board at a time, so a switch to another
 * process's board stops the old board's events and presence.
 */
async function enterView(socket: BoardSocket, boardId: string, view: BoardView): Promise<void> {
  for (const other of Object.keys(socket.data.views)) if (other !== boardId) await leaveBoard(socket, other);
  const previous = socket.data.views[boardId];
  if (previous && previous !== view) await leaveBoard(socket, boardId);
  socket.data.views[boardId] = view;
  for (const room of viewRooms(boardId, view, socket.data.actor.id)) await socket.join(room);
}

async function leaveBoard(socket: BoardSocket, boardId: string): Promise<void> {
  const view = socket.data.views[boardId];
  if (!view) return;
  for (const room of viewRooms(boardId, view, socket.data.actor.id)) await socket.leave(room);
  delete socket.data.views[boardId];
}

export function attachBoardSocket(io: BoardServer, deps: Deps): void {
  // The handshake must carry a live session cookie, an API key or a display token; anything else is refused.
  io.use(async (socket, next) => {
    try {
      const who = await identify(socket, deps);
      if (!who) return next(refuse("UNAUTHENTICATED", "Sign in, or use a valid API key or display token"));
      socket.data.actor = who.actor;
      socket.data.views = {};
      socket.data.wall = who.config;
      // Before any handler runs: logout, deactivation or a revoked token reach this socket at once.
      await socket.join(who.rooms);
      next();
    } catch (err) {
      const body = toErrorBody(err, deps.logger);
      next(Object.assign(new Error(body.code), { data: body }));
    }
  });

  const limiter = deps.syncLimiter ?? new SyncLimiter();

  io.on("connection", (socket: BoardSocket) => {
    const actor = () => socket.data.actor;
    const stillWanted = () => socket.connected;
    /**
     * Joins and resyncs of this socket share one lane: they run one at a time in order of
     * arrival, so rooms and `socket.data.views` end as the last one left them (the view whose
     * snapshot the client holds), never as a slower earlier one finishing last. Only the
     * newest waits; an older waiting one is answered UNAVAILABLE (superseded).
     */
    const synced = <T>(sync: () => Promise<T>) => limiter.run(sync, { lane: `${socket.id}:sync`, stillWanted });
    /** Pages queue apart from joins (a page changes no room), one waiting per column. */
    const paged = <T>(column: string, read: () => Promise<T>) =>
      limiter.run(read, { lane: `${socket.id}:page:${column}`, stillWanted });
    if (deps.clientVersion) socket.emit("server:version", { clientVersion: deps.clientVersion });
    if (socket.data.wall) socket.emit("wall:config", socket.data.wall);
    const on = <S extends z.ZodType, R>(name: CommandName, schema: S, run: (input: z.infer<S>) => Promise<R>) =>
      command(deps, socket, name, schema, run);

    socket.on(
      "board:join",
      on("board:join", boardJoinInput, (input) =>
        synced(async () => {
          const board = await deps.boards.resolveBoard(actor(), input);
          const view = deps.boards.resolveView(actor(), input.view);
          requireDisplayScope(actor(), { boardId: board.id }, view);
          await enterView(socket, board.id, view);
          // Joined before reading: every event after the snapshot's seq reaches this socket.
          return deps.boards.snapshot(board.id, deps.now(), { view, userId: actor().id }, input.pageSize);
        }),
      ),
    );

    socket.on(
      "board:resync",
      on("board:resync", boardResyncInput, (input) =>
        synced(async () => {
          // Same order as a join: in the room first, then read, so nothing falls in between.
          // Permission is checked again by the service; leave the room if it refuses.
          const view = deps.boards.resolveView(actor(), input.view ?? socket.data.views[input.boardId]);
          requireDisplayScope(actor(), { boardId: input.boardId }, view);
          await enterView(socket, input.boardId, view);
          try {
            return await deps.boards.resync(actor(), input, deps.now(), view);
          } catch (err) {
            await leaveBoard(socket, input.boardId);
            throw err;
          }
        }),
      ),
    );

    // The rest of a column after a join's first page: reads like a join, so it waits its turn like one.
    // It reads with the view the socket has when it runs; a client drops pages of a snapshot it replaced.
    socket.on(
      "board:page",
      on("board:page", boardPageInput, (input) =>
        paged(`${input.boardId}:${input.stage}`, () => deps.boards.page(actor(), input, socket.data.views[input.boardId])),
      ),
    );

    socket.on(
      "lead:move",
      on("lead:move", leadMoveInput, (input) => deps.leads.move(actor(), input, deps.now())),
    );

    // The feed of a board this socket joined, filtered for the view it joined with.
    socket.on(
      "board:activity",
      on("board:activity", boardActivityInput, (input) =>
        deps.boards.activity(actor(), input, socket.data.views[input.boardId]),
      ),
    );

    // Headline figures of a board this socket joined (the wall's header).
    socket.on(
      "wall:figures",
      on("wall:figures", wallFiguresInput, async (input) => {
        if (!socket.data.views[input.boardId]) throw new DomainError("FORBIDDEN", "Join the board first");
        if (!deps.figures) throw new DomainError("NOT_FOUND", "Figures are not available on this server");
        return deps.figures(actor(), input);
      }),
    );
  });
}
