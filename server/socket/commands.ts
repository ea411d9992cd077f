import type { Logger } from "pino";
import type { z } from "zod";
import type { Action } from "../../shared/domain/permissions.ts";
import type { BoardView } from "../../shared/domain/views.ts";
import { DomainError, type Ack } from "../../shared/errors.ts";
import type { ClientToServerEvents } from "../../shared/events.ts";
import { requirePermission, type Actor } from "../services/actor.ts";
import { toErrorBody } from "../http/errors.ts";
import { parseInput } from "../http/parse.ts";

export type CommandName = keyof ClientToServerEvents;

/**
 * Who may send each socket command: the socket half of the one permission mechanism
 * (server/http/guard.ts is the HTTP half). Reads of a board need `board.view`; a wall
 * display has nothing else, so every command that changes something is FORBIDDEN to it.
 */
export const commandAccess = {
  "board:join": "board.view",
  "board:resync": "board.view",
  "board:page": "board.view",
  "board:activity": "board.view",
  "wall:figures": "board.view",
  "lead:move": "lead.move",
  "presence:set": "presence.share",
} as const satisfies Record<CommandName, Action>;

/** Commands per connection: a steady rate with a burst (a big board's background paging is a burst). */
export interface CommandRate {
  perSecond: number;
  burst: number;
}
export const defaultCommandRate: CommandRate = { perSecond: 50, burst: 200 };

interface Bucket {
  tokens: number;
  at: number;
}

/** The socket's side of a command: who it is and its rate bucket. */
export interface CommandSocket {
  data: { actor: Actor };
}

const buckets = new WeakMap<CommandSocket, Bucket>();

/** Counts one command against the connection's bucket; RATE_LIMITED when it is empty. */
export function takeToken(socket: CommandSocket, rate: CommandRate, nowMs = Date.now()): void {
  let bucket = buckets.get(socket);
  if (!bucket) {
    bucket = { tokens: rate.burst, at: nowMs };
    buckets.set(socket, bucket);
  }
  bucket.tokens = Math.min(rate.burst, bucket.tokens + ((nowMs - bucket.at) / 1000) * rate.perSecond);
  bucket.at = nowMs;
  if (bucket.tokens < 1) {
    const waitMs = Math.ceil(((1 - bucket.tokens) / rate.perSecond) * 1000);
    throw new DomainError("RATE_LIMITED", "Too many commands on this connection; slow down", { retryAfterMs: waitMs });
  }
  bucket.tokens -= 1;
}

/** Every socket command passes here first: permission, then the connection's rate. */
export function admitCommand(socket: CommandSocket, name: CommandName, rate: CommandRate = defaultCommandRate): void {
  requirePermission(socket.data.actor, commandAccess[name]);
  takeToken(socket, rate);
}

/**
 * A wall display may read only the boards and views its token names; anyone else is
 * limited by their role's views elsewhere (BoardService.resolveView).
 */
export function requireDisplayScope(actor: Actor, target: { processId?: string; boardId?: string }, view?: BoardView): void {
  if (actor.kind !== "display") return;
  const screens = actor.display?.screens ?? [];
  const boards = actor.display?.boards ?? {};
  const ok =
    target.processId !== undefined
      ? screens.some((s) => s.processId === target.processId && (view === undefined || s.view === view))
      : target.boardId !== undefined &&
        (boards[target.boardId] ?? []).some((v) => view === undefined || v === view);
  if (!ok) throw new DomainError("FORBIDDEN", "This wall display may only show the boards its token names");
}

/**
 * A command sent without a payload (`emit("board:join", cb)`) arrives with the ack first:
 * it must still be answered (INVALID_INPUT), never left hanging.
 */
export function payloadAndAck(args: readonly unknown[]): [unknown, unknown] {
  if (args.length === 1 && typeof args[0] === "function") return [undefined, args[0]];
  return [args[0], args[1]];
}

export interface CommandDeps {
  logger: Logger;
  rate?: CommandRate;
  onCommand?: (name: string, ok: boolean) => void;
  /** Lets shutdown wait for commands that are still writing. */
  track?: <T>(work: Promise<T>) => Promise<T>;
}

/**
 * A command handler: admits the sender (permission, rate), validates the payload with its
 * shared schema, runs the use case, and always answers through the ack, never by throwing
 * into Socket.IO.
 */
export function command<S extends z.ZodType, R>(
  deps: CommandDeps,
  socket: CommandSocket,
  name: CommandName,
  schema: S,
  run: (input: z.infer<S>) => Promise<R>,
) {
  return async (...args: unknown[]) => {
    const [payload, ack] = payloadAndAck(args);
    const reply = typeof ack === "function" ? (ack as (res: Ack<R>) => void) : () => {};
    try {
      admitCommand(socket, name, deps.rate);
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
