/**
 * Presence over Socket.IO: who is on a board and which leads they hold, across nodes.
 *
 * A socket is on a board while it is in any of that board's rooms (board:join and
 * board:resync put it there); a wall display never is (a wall is not a person: it is
 * neither listed nor told who is there). The adapter's join-room/leave-room events tell
 * this module, which keeps such sockets in the board's presence room and its activity in socket.data,
 * so that `fetchSockets()` reads everyone's state from every node. Per board and node,
 * changes are coalesced into at most one recomputation per interval; each node sends the
 * result to its own sockets only, and tells the other nodes to do the same.
 */
import { admitCommand, payloadAndAck, type CommandRate } from "./commands.ts";
import type { Logger } from "pino";
import type { Namespace, Server, Socket } from "socket.io";
import { DomainError, type Ack } from "../../shared/errors.ts";
import type { ClientToServerEvents, ServerToClientEvents } from "../../shared/events.ts";
import type { BoardPresence, PresenceActivity } from "../../shared/presence.ts";
import { presenceSetInput } from "../../shared/schemas/board.ts";
import { toErrorBody } from "../http/errors.ts";
import { parseInput } from "../http/parse.ts";
import { aggregatePresence, heldLeadIds, presenceForViewer } from "../services/presence.ts";
import type { HeldLeads } from "../services/presence-leads.ts";
import type { BoardServer, SocketData } from "./board-socket.ts";

/** Every socket on a board, whatever its view: where `board:presence` goes. */
export const presenceRoom = (boardId: string) => `presence:${boardId}`;

/** The board a view room belongs to (`board:<id>` or `board:<id>:…`), or null for any other room. */
export function boardOfRoom(room: string): string | null {
  const match = /^board:([^:]+)(?::|$)/.exec(room);
  return match ? match[1]! : null;
}

/** Between nodes: "presence on this board changed here; recompute it for your sockets". */
interface PresenceServerEvents {
  "presence:changed": (boardId: string) => void;
}
type PresenceNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, PresenceServerEvents, SocketData>;
type PresenceSocket = Socket<ClientToServerEvents, ServerToClientEvents, PresenceServerEvents, SocketData>;

export interface PresenceOptions {
  logger: Logger;
  /** A cluster adapter shares the rooms: tell the other nodes of changes, and refresh now and then. */
  crossNode: boolean;
  /** At most one presence broadcast per board and node in this time. */
  intervalMs?: number;
  /** Cross-node only: recompute anyway this often (a node that died, or that joined late). */
  refreshMs?: number;
  onCommand?: (name: string, ok: boolean) => void;
  /** Commands per connection (shared with the board commands' limit). */
  commandRate?: CommandRate;
  /**
   * Where held leads are, so each viewer sees only the holders of leads in its view.
   * Omitted (unit tests of the hub): everyone sees every held lead.
   */
  heldLeads?: (boardId: string, leadIds: readonly string[]) => Promise<HeldLeads>;
}

type Waiter = { sid: string; resolve: (presence: BoardPresence) => void };

interface BoardSlot {
  timer: NodeJS.Timeout | undefined;
  running: boolean;
  dirty: boolean;
  /** Changed on this node since the last recomputation: the other nodes must hear of it. */
  changedHere: boolean;
  lastRunAt: number;
  /** What this node last sent its sockets, to skip sending the same presence again. */
  lastSent: string | undefined;
  latest: BoardPresence | undefined;
  /** presence:set acks waiting for a recomputation that includes their change. */
  waiters: Waiter[];
  /** Sockets new to the board: owed the presence even when it did not change. */
  fresh: Set<string>;
}

const retryMs = 1_000;

export class PresenceHub {
  readonly #nsp: PresenceNamespace;
  readonly #options: Required<Omit<PresenceOptions, "onCommand" | "heldLeads" | "commandRate">> &
    Pick<PresenceOptions, "onCommand" | "heldLeads" | "commandRate">;
  readonly #slots = new Map<string, BoardSlot>();
  #refresh: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(io: BoardServer, options: PresenceOptions) {
    // The board server declares no events between nodes; presence is the one that uses them.
    this.#nsp = (io as unknown as Server<ClientToServerEvents, ServerToClientEvents, PresenceServerEvents, SocketData>).of("/");
    this.#options = { intervalMs: 150, refreshMs: 15_000, ...options };
  }

  /** Call after the adapter is set up: the listeners belong to the adapter instance. */
  attach(): this {
    const adapter = this.#nsp.adapter;
    adapter.on("join-room", (room: string, sid: string) => this.#joined(room, sid));
    adapter.on("leave-room", (room: string, sid: string) => {
      const boardId = boardOfRoom(room);
      if (boardId && this.#nsp.sockets.get(sid)?.data.actor?.kind !== "display") this.#touch(boardId, true);
    });
    this.#nsp.on("connection", (socket) => {
      socket.on("presence:set", (...args: unknown[]) => void this.#onSet(socket, ...payloadAndAck(args)));
    });
    if (this.#options.crossNode) {
      this.#nsp.on("presence:changed", (boardId: unknown) => {
        if (typeof boardId === "string" && this.#localCount(boardId) > 0) this.#touch(boardId, false);
      });
      this.#refresh = setInterval(() => {
        for (const room of this.#nsp.adapter.rooms.keys()) {
          if (room.startsWith("presence:")) this.#touch(room.slice("presence:".length), false);
        }
      }, this.#options.refreshMs);
      this.#refresh.unref();
    }
    return this;
  }

  /** Stops recomputing; other nodes still hear of this node's sockets leaving. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#refresh);
    for (const [boardId, slot] of this.#slots) {
      clearTimeout(slot.timer);
      if (slot.changedHere && this.#options.crossNode) this.#nsp.serverSideEmit("presence:changed", boardId);
      // Who is there, without the held leads: no view to filter them for any more.
      const viewers = (slot.latest?.viewers ?? []).map((v) => ({ ...v, activities: [] }));
      for (const w of slot.waiters.splice(0)) w.resolve({ boardId, viewers });
    }
    this.#slots.clear();
  }

  #joined(room: string, sid: string): void {
    const boardId = boardOfRoom(room);
    if (!boardId || this.#closed) return;
    const socket = this.#nsp.sockets.get(sid);
    const target = presenceRoom(boardId);
    // A second room of the same board (a view switch, "my leads") changes nothing.
    if (!socket || socket.rooms.has(target)) return;
    // A wall is not a person: it is not listed, and the room's names are none of its business.
    if (socket.data.actor?.kind === "display") return;
    void socket.join(target);
    this.#slot(boardId).fresh.add(sid);
    this.#touch(boardId, true);
  }

  async #onSet(socket: PresenceSocket, payload: unknown, ack: unknown): Promise<void> {
    const reply = typeof ack === "function" ? (ack as (res: Ack<BoardPresence>) => void) : () => {};
    try {
      admitCommand(socket, "presence:set", this.#options.commandRate);
      const input = parseInput(presenceSetInput, payload);
      if (!isOnBoard(socket, input.boardId)) {
        throw new DomainError("FORBIDDEN", "Join the board before telling others what you are doing on it");
      }
      const data = await this.#set(socket, input.boardId, input.activity);
      this.#options.onCommand?.("presence:set", true);
      reply({ ok: true, data });
    } catch (err) {
      this.#options.onCommand?.("presence:set", false);
      reply({ ok: false, error: toErrorBody(err, this.#options.logger) });
    }
  }

  /**
   * Records the activity and answers with the presence of the next recomputation. However
   * fast a client sends, its changes join that one recomputation: one broadcast per interval.
   */
  #set(socket: PresenceSocket, boardId: string, activity: PresenceActivity | null): Promise<BoardPresence> {
    const current = socket.data.presence?.[boardId] ?? null;
    const same = current?.leadId === activity?.leadId && current?.kind === activity?.kind;
    const slot = this.#slot(boardId);
    if (!same) socket.data.presence = { ...socket.data.presence, [boardId]: activity };
    // Always through a recomputation: the answer is filtered for this socket's view.
    return new Promise((resolve) => {
      slot.waiters.push({ sid: socket.id, resolve });
      this.#touch(boardId, !same);
    });
  }

  #slot(boardId: string): BoardSlot {
    let slot = this.#slots.get(boardId);
    if (!slot) {
      slot = {
        timer: undefined,
        running: false,
        dirty: false,
        changedHere: false,
        lastRunAt: 0,
        lastSent: undefined,
        latest: undefined,
        waiters: [],
        fresh: new Set(),
      };
      this.#slots.set(boardId, slot);
    }
    return slot;
  }

  #touch(boardId: string, changedHere: boolean): void {
    if (this.#closed) return;
    const slot = this.#slot(boardId);
    slot.dirty = true;
    if (changedHere) slot.changedHere = true;
    this.#schedule(boardId, slot);
  }

  #schedule(boardId: string, slot: BoardSlot, minDelayMs = 0): void {
    if (slot.timer || slot.running || this.#closed) return;
    // Never sooner than the next macrotask: a view switch leaves and rejoins rooms in between.
    const wait = Math.max(minDelayMs, slot.lastRunAt + this.#options.intervalMs - Date.now(), 0);
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      void this.#recompute(boardId, slot);
    }, wait);
  }

  async #recompute(boardId: string, slot: BoardSlot): Promise<void> {
    if (this.#closed) return;
    slot.running = true;
    slot.dirty = false;
    slot.lastRunAt = Date.now();
    const waiters = slot.waiters.splice(0);
    const fresh = [...slot.fresh];
    slot.fresh.clear();
    if (slot.changedHere && this.#options.crossNode) this.#nsp.serverSideEmit("presence:changed", boardId);
    slot.changedHere = false;
    let retry = false;
    try {
      this.#dropLeavers(boardId);
      const presence = await this.#gather(boardId);
      slot.latest = presence;
      const forSocket = await this.#filterFor(boardId, presence);
      if (this.#closed) {
        for (const w of waiters) w.resolve(forSocket(w.sid));
        return;
      }
      const text = JSON.stringify(presence);
      const recipients = text !== slot.lastSent ? [...(this.#nsp.adapter.rooms.get(presenceRoom(boardId)) ?? [])] : fresh;
      slot.lastSent = text;
      this.#sendEach(recipients, forSocket);
      for (const w of waiters) w.resolve(forSocket(w.sid));
    } catch (err) {
      // Another node did not answer in time: answer from this node's sockets, send nothing, retry
      // (and send then, even if the result equals what was last sent: these answers were partial).
      this.#options.logger.warn({ err, boardId }, "presence: could not gather the board's sockets from every node");
      const local = aggregatePresence(boardId, this.#localConnections(boardId));
      const forSocket = await this.#filterFor(boardId, local).catch(() => () => ({ boardId, viewers: [] }));
      for (const w of waiters) w.resolve(forSocket(w.sid));
      for (const sid of fresh) slot.fresh.add(sid);
      slot.lastSent = undefined;
      slot.dirty = true;
      retry = true;
    } finally {
      slot.running = false;
    }
    if (slot.dirty) this.#schedule(boardId, slot, retry ? retryMs : 0);
    else if (this.#localCount(boardId) === 0 && slot.waiters.length === 0) this.#slots.delete(boardId);
  }

  /**
   * Sends each local recipient its presence. Sockets shown the same presence (one view) get
   * it in one broadcast to their ids, so it is encoded once, not once per socket: with
   * 1,000 viewers joining, a per-socket emit serialised the list a thousand times a round.
   */
  #sendEach(recipients: readonly string[], forSocket: (sid: string) => BoardPresence): void {
    const groups = new Map<BoardPresence, string[]>();
    for (const sid of recipients) {
      if (!this.#nsp.sockets.has(sid)) continue;
      const shown = forSocket(sid);
      const group = groups.get(shown);
      if (group) group.push(sid);
      else groups.set(shown, [sid]);
    }
    for (const [shown, sids] of groups) this.#nsp.local.to(sids).emit("board:presence", shown);
  }

  /** Sockets of this node that left every room of the board also leave its presence, and forget their activity there. */
  #dropLeavers(boardId: string): void {
    const room = presenceRoom(boardId);
    for (const sid of [...(this.#nsp.adapter.rooms.get(room) ?? [])]) {
      const socket = this.#nsp.sockets.get(sid);
      if (!socket || isOnBoard(socket, boardId)) continue;
      void socket.leave(room);
      if (socket.data.presence) delete socket.data.presence[boardId];
    }
  }

  /**
   * The presence each local socket may see: holders only of leads in its view. One
   * lookup of the held leads per recomputation; sockets of one view share the result.
   */
  async #filterFor(boardId: string, presence: BoardPresence): Promise<(sid: string) => BoardPresence> {
    const ids = heldLeadIds(presence);
    const load = this.#options.heldLeads;
    if (ids.length === 0 || !load) return () => presence;
    const { stages, leads } = await load(boardId, ids);
    const byView = new Map<string, BoardPresence>();
    return (sid) => {
      const socket = this.#nsp.sockets.get(sid);
      const view = socket?.data.views?.[boardId];
      const userId = socket?.data.actor?.id ?? null;
      if (!view) return presenceForViewer(presence, new Map(), stages, "all", userId);
      const key = view === "my_leads" ? `${view}:${userId}` : view;
      let shown = byView.get(key);
      if (!shown) {
        shown = presenceForViewer(presence, leads, stages, view, userId);
        byView.set(key, shown);
      }
      return shown;
    };
  }

  async #gather(boardId: string): Promise<BoardPresence> {
    const sockets = await this.#nsp.in(presenceRoom(boardId)).fetchSockets();
    return aggregatePresence(
      boardId,
      sockets.map((s) => ({ actor: s.data.actor, activity: s.data.presence?.[boardId] ?? null })),
    );
  }

  #localConnections(boardId: string) {
    return [...(this.#nsp.adapter.rooms.get(presenceRoom(boardId)) ?? [])].flatMap((sid) => {
      const socket = this.#nsp.sockets.get(sid);
      return socket ? [{ actor: socket.data.actor, activity: socket.data.presence?.[boardId] ?? null }] : [];
    });
  }

  #localCount(boardId: string): number {
    return this.#nsp.adapter.rooms.get(presenceRoom(boardId))?.size ?? 0;
  }
}

function isOnBoard(socket: { rooms: Set<string> }, boardId: string): boolean {
  for (const room of socket.rooms) if (boardOfRoom(room) === boardId) return true;
  return false;
}

export function attachPresence(io: BoardServer, options: PresenceOptions): PresenceHub {
  return new PresenceHub(io, options).attach();
}
