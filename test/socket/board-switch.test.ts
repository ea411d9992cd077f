/**
 * Quick switches on one connection: joins and resyncs of a socket run one at a time in
 * order of arrival (a waiting one is superseded by a newer one), so the socket ends in the
 * rooms of the last one acknowledged, never of a slower earlier one that finished last.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { boards } from "../../drizzle/schema.ts";
import type { BoardEvent, BoardSnapshot } from "../../shared/board.ts";
import type { BoardView } from "../../shared/domain/views.ts";
import type { Ack } from "../../shared/errors.ts";
import type { App } from "../../server/app.ts";
import type { Actor } from "../../server/services/actor.ts";
import { viewRooms } from "../../server/socket/view-rooms.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeLead, makeUser } from "../support/builders.ts";
import { collectEvents, connectSocket, login, startTestServer, until, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";

type Sync = { event: "board:join"; payload: { view: BoardView; processId?: string } } | { event: "board:resync"; payload: { view: BoardView } };

/**
 * Holds the next join's board lookup (before it touches any room) until the server has
 * received `count` syncs on the connection: the held join is then the slowest, and
 * without ordering it would move the socket into its rooms last.
 */
function holdFirstJoin(app: App) {
  const boards = app.services.boards;
  const original = boards.resolveBoard.bind(boards);
  let held: Promise<void> | null = null;
  boards.resolveBoard = async (...args) => {
    const wait = held;
    held = null;
    if (wait) await wait;
    return original(...args);
  };
  return {
    until(socketId: string, count: number) {
      const serverSocket = app.io.sockets.sockets.get(socketId);
      if (!serverSocket) throw new Error("no such socket on the server");
      let release!: () => void;
      held = new Promise<void>((r) => (release = r));
      let seen = 0;
      const onSync = (event: string) => {
        if (event !== "board:join" && event !== "board:resync") return;
        if (++seen < count) return;
        serverSocket.offAny(onSync);
        // The last sync's handler runs right after its any-listener: let it register first.
        setImmediate(release);
      };
      serverSocket.onAny(onSync);
    },
  };
}

describe.each(drivers)("switching views and boards quickly on one connection on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  let cookie: string;
  let hold: ReturnType<typeof holdFirstJoin>;
  let defaultBoardId: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database, undefined, { beforeListen: (app) => (hold = holdFirstJoin(app)) });
    const a = await makeUser(server.app.services.auth, "admin", "Ada Admin");
    admin = a.actor;
    cookie = await login(server.url, a.user.email);
    defaultBoardId = (await server.app.services.boards.resolveBoard(admin, {})).id;
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  async function connected() {
    const socket = connectSocket(server.url, cookie);
    sockets.push(socket);
    const events = collectEvents(socket);
    await waitForConnect(socket);
    return { socket, events };
  }

  /** Sends every sync at once (the first one held), and resolves with their acks in order. */
  function sendAtOnce(socket: TestSocket, syncs: Sync[]): Promise<Array<Ack<unknown>>> {
    hold.until(socket.id!, syncs.length);
    return Promise.all(
      syncs.map(({ event, payload }) =>
        (socket.timeout(20_000).emitWithAck as (e: string, p: unknown) => Promise<Ack<unknown>>)(
          event,
          event === "board:resync" ? { boardId: defaultBoardId, sinceSeq: 0, ...payload } : payload,
        ),
      ),
    );
  }

  /** The socket's board rooms on the server (presence follows them by itself, a moment later). */
  function boardRoomsOf(socket: TestSocket): string[] {
    const rooms = server.app.io.sockets.sockets.get(socket.id!)?.rooms ?? new Set<string>();
    return [...rooms].filter((r) => r.startsWith("board:")).sort();
  }

  const expectedRooms = (boardId: string, view: BoardView) => [...viewRooms(boardId, view, admin.id)].sort();

  /** What a socket watching `view` receives for a new lead in Inquiry (not sales-ready, no owner). */
  const expectedType = (view: BoardView): BoardEvent["type"] => (view === "all" ? "lead.created" : "lead.left_view");

  async function newLeadSeenAs(events: BoardEvent[]): Promise<BoardEvent[]> {
    const lead = await makeLead(t.database.db, server.app.services.leads, admin);
    const [board] = await t.database.db.select({ seq: boards.lastSeq }).from(boards).where(eq(boards.id, defaultBoardId));
    const seq = board!.seq;
    await until(() => events.some((e) => e.seq === seq));
    const got = events.filter((e) => e.seq === seq);
    expect(got.every((e) => ("lead" in e ? e.lead.id : e.type === "lead.left_view" ? e.leadId : null) === lead.id)).toBe(true);
    return got;
  }

  it("join A (slow) then join B: both answered in order, the socket ends in B's rooms and gets B's events", async () => {
    const { socket, events } = await connected();
    const views: Array<[BoardView, BoardView]> = [
      ["all", "sales_ready"],
      ["sales_ready", "all"],
      ["teleprospecting_queue", "my_leads"],
      ["my_leads", "all"],
      ["all", "teleprospecting_queue"],
    ];
    for (const [a, b] of [...views, ...views]) {
      const acks = await sendAtOnce(socket, [
        { event: "board:join", payload: { view: a } },
        { event: "board:join", payload: { view: b } },
      ]);
      expect(acks.map((ack) => ack.ok && (ack.data as BoardSnapshot).view)).toEqual([a, b]);
      expect(boardRoomsOf(socket)).toEqual(expectedRooms(defaultBoardId, b));
      const got = await newLeadSeenAs(events);
      expect(got.map((e) => e.type)).toEqual([expectedType(b)]);
    }
  });

  it("join, resync and join at once: the waiting middle one is superseded, the last one's rooms win", async () => {
    const { socket, events } = await connected();
    for (const syncs of [
      [
        { event: "board:join", payload: { view: "sales_ready" } },
        { event: "board:resync", payload: { view: "my_leads" } },
        { event: "board:join", payload: { view: "all" } },
      ],
      [
        { event: "board:join", payload: { view: "all" } },
        { event: "board:join", payload: { view: "teleprospecting_queue" } },
        { event: "board:resync", payload: { view: "sales_ready" } },
      ],
    ] satisfies Sync[][]) {
      const acks = await sendAtOnce(socket, syncs);
      expect(acks[0]).toMatchObject({ ok: true });
      expect(acks[1]).toEqual({ ok: false, error: { code: "UNAVAILABLE", message: "Superseded by a newer request from this connection" } });
      expect(acks[2]).toMatchObject({ ok: true });
      const last = syncs[2]!;
      expect(boardRoomsOf(socket)).toEqual(expectedRooms(defaultBoardId, last.payload.view));
      expect((await newLeadSeenAs(events)).map((e) => e.type)).toEqual([expectedType(last.payload.view)]);
    }
  });

  it("a switch to another process's board and straight back ends on the board asked last, out of the other", async () => {
    const other = await server.app.services.processes.create(admin, { name: "Switch target", stages: [{ key: "one", name: "One" }] }, new Date());
    const { socket, events } = await connected();
    for (const [from, to] of [
      [undefined, other.id],
      [other.id, undefined],
      [undefined, other.id],
    ] as const) {
      const acks = await sendAtOnce(socket, [
        { event: "board:join", payload: { view: "all", ...(from ? { processId: from } : {}) } },
        { event: "board:join", payload: { view: "all", ...(to ? { processId: to } : {}) } },
      ]);
      const boardId = to ? other.boardId : defaultBoardId;
      expect(acks.map((a) => a.ok)).toEqual([true, true]);
      expect(acks[1]).toMatchObject({ ok: true, data: { boardId } });
      expect(boardRoomsOf(socket)).toEqual(expectedRooms(boardId, "all"));
    }
    // On the other board now: a lead on the default board does not reach it.
    const before = events.length;
    await makeLead(t.database.db, server.app.services.leads, admin);
    const { socket: watcher, events: watched } = await connected();
    await sendAtOnce(watcher, [{ event: "board:join", payload: { view: "all" } }]);
    await makeLead(t.database.db, server.app.services.leads, admin);
    await until(() => watched.length > 0);
    expect(events.slice(before).filter((e) => e.boardId === defaultBoardId)).toEqual([]);
  });
});
