import type { Logger } from "pino";
import type { Server, Socket } from "socket.io";
import type { z } from "zod";
import type { Ack } from "../../shared/errors.ts";
import type { BoardView } from "../../shared/domain/views.ts";
import type { PresenceActivity } from "../../shared/presence.ts";
import { userRoom, type ClientToServerEvents, type ServerToClientEvents } from "../../shared/events.ts";
import { boardActivityInput, boardJoinInput, boardPageInput, boardResyncInput, leadMoveInput } from "../../shared/schemas/board.ts";
import type { Actor } from "../services/actor.ts";
import { userActor, sessionCookieName, type AuthService } from "../services/auth-service.ts";
import type { BoardService } from "../services/board-service.ts";
import type { LeadService } from "../services/lead-service.ts";
import { readCookie } from "../http/cookies.ts";
import { toErrorBody } from "../http/errors.ts";
import { parseInput } from "../http/parse.ts";
import { SyncLimiter } from "./sync-limiter.ts";
import { viewRooms } from "./view-rooms.ts";

export interface SocketData {
  actor: Actor;
  /** The view this socket watches on each board it joined. */
  views: Record<string, BoardView>;
  /** What this socket is doing on each board it is on (presence); kept here so fetchSockets sees it on every node. */
  presence?: Record<string, PresenceActivity | null>;
}

export type BoardServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
type BoardSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

interface Deps {
  auth: AuthService;
  boards: BoardService;
  leads: LeadService;
  logger: Logger;
  now: () => Date;
  onCommand?: (name: string, ok: boolean) => void;
  /** Lets shutdown wait for commands that are still writing. */
  track?: <T>(work: Promise<T>) => Promise<T>;
  /** Admission limit for joins, resyncs and pages (a restart brings everyone back at once); default 8 at a time. */
  syncLimiter?: SyncLimiter;
}

/**
 * A command handler: validates the payload with its shared schema, runs the use case,
 * and always answers through the ack, never by throwing into Socket.IO.
 */
function command<S extends z.ZodType, R>(
  deps: Deps,
  name: string,
  schema: S,
  run: (input: z.infer<S>) => Promise<R>,
) {
  return async (payload: unknown, ack: unknown) => {
    const reply = typeof ack === "function" ? (ack as (res: Ack<R>) => void) : () => {};
    try {
      const work = run(parseInput(schema, payload));
      const data = await (deps.track ? deps.track(work) : work);
      deps.onCommand?.(name, true);
      reply({ ok: true, data });
    } catch (err) {
      deps.onCommand?.(name, false);
      reply({ ok: false, error: toErrorBody(err, deps.logger) });
    }
  };
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
  // The handshake must carry a live session cookie; anything else is refused.
  io.use(async (socket, next) => {
    try {
      const token = readCookie(socket.handshake.headers.cookie, sessionCookieName);
      const user = token ? await deps.auth.userForSession(token, deps.now()) : undefined;
      if (!user) return next(Object.assign(new Error("UNAUTHENTICATED"), { data: { code: "UNAUTHENTICATED" } }));
      socket.data.actor = userActor(user);
      socket.data.views = {};
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
    if (socket.data.actor.id) void socket.join(userRoom(socket.data.actor.id));

    socket.on(
      "board:join",
      command(deps, "board:join", boardJoinInput, (input) =>
        synced(async () => {
          const board = await deps.boards.resolveBoard(actor(), input);
          const view = deps.boards.resolveView(actor(), input.view);
          await enterView(socket, board.id, view);
          // Joined before reading: every event after the snapshot's seq reaches this socket.
          return deps.boards.snapshot(board.id, deps.now(), { view, userId: actor().id }, input.pageSize);
        }),
      ),
    );

    socket.on(
      "board:resync",
      command(deps, "board:resync", boardResyncInput, (input) =>
        synced(async () => {
          // Same order as a join: in the room first, then read, so nothing falls in between.
          // Permission is checked again by the service; leave the room if it refuses.
          const view = deps.boards.resolveView(actor(), input.view ?? socket.data.views[input.boardId]);
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
      command(deps, "board:page", boardPageInput, (input) =>
        paged(`${input.boardId}:${input.stage}`, () => deps.boards.page(actor(), input, socket.data.views[input.boardId])),
      ),
    );

    socket.on(
      "lead:move",
      command(deps, "lead:move", leadMoveInput, (input) => deps.leads.move(actor(), input, deps.now())),
    );

    // The feed of a board this socket joined, filtered for the view it joined with.
    socket.on(
      "board:activity",
      command(deps, "board:activity", boardActivityInput, (input) =>
        deps.boards.activity(actor(), input, socket.data.views[input.boardId]),
      ),
    );
  });
}
