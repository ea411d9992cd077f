/**
 * Paged loading of a big board: `board:join` carries each column's total and first page,
 * `board:page` the rest, filtered for the socket's view; a client that pages while others
 * change the board ends up with exactly what a fresh read shows.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { leads as leadsTable } from "../../drizzle/schema.ts";
import { compareCards, sortCards } from "../../client/src/lib/board-logic.ts";
import { columnCount, loadedCards } from "../../client/src/lib/board-pages.ts";
import type { BoardPage, BoardSnapshot, BoardStage, LeadCard } from "../../shared/board.ts";
import { isTeleprospectingStage } from "../../shared/domain/views.ts";
import { ranksAfter } from "../../shared/domain/ranks.ts";
import { defaultFirstPageSize, defaultPageLimit } from "../../shared/schemas/board.ts";
import { defaultMaxConcurrentSyncs } from "../../server/socket/sync-limiter.ts";
import { countOpenByStage } from "../../server/repositories/leads.ts";
import type { Actor } from "../../server/services/actor.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeUser } from "../support/builders.ts";
import { LiveBoardClient, placements } from "../support/live-client.ts";
import { connectSocket, login, request, startTestServer, until, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";
import { readWholeBoard } from "../support/whole-board.ts";

/** Leads per column of the test board: some columns need many pages, the last fits in its first. */
const layout: Record<string, number> = {
  inquiry: 500,
  automated_marketing_qualification: 300,
  teleprospecting_acceptance: 200,
  teleprospecting_qualification: 150,
  sales_acceptance: 50,
};

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe.each(drivers)("paged board loading on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  let boardId: string;
  let processId: string;
  let stages: BoardStage[];
  const cookies: Record<string, string> = {};
  const users: Record<string, Actor> = {};
  const sockets: TestSocket[] = [];
  const clients: LiveBoardClient[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const auth = server.app.services.auth;
    for (const role of ["admin", "salesperson", "telemarketer"] as const) {
      const u = await makeUser(auth, role);
      cookies[role] = await login(server.url, u.user.email);
      users[role] = u.actor;
    }
    admin = users.admin!;
    const board = await server.app.services.boards.resolveBoard(admin, {});
    boardId = board.id;
    processId = board.processId;
    stages = (await server.app.services.boards.snapshot(boardId, new Date())).stages;
    // 1,200 leads straight into the table; every 7th sales-ready, every 5th the salesperson's.
    let n = 0;
    for (const stage of stages) {
      const ranks = ranksAfter(null, layout[stage.key] ?? 0);
      const rows = ranks.map((rank) => {
        const i = n++;
        return { topic: `Paged lead ${i}`, processId, stageId: stage.id, rank, salesReady: i % 7 === 0, ownerId: i % 5 === 0 ? users.salesperson!.id : null };
      });
      for (let from = 0; from < rows.length; from += 500) await t.database.db.insert(leadsTable).values(rows.slice(from, from + 500));
    }
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
    for (const c of clients.splice(0)) c.stop();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  async function joined(role = "admin", payload: Record<string, unknown> = {}) {
    const socket = connectSocket(server.url, cookies[role]);
    sockets.push(socket);
    await waitForConnect(socket);
    const ack = await request<BoardSnapshot>(socket, "board:join", payload);
    if (!ack.ok) throw new Error(ack.error.message);
    return { socket, snapshot: ack.data };
  }

  /** The open leads of each column in the view, by stage key, as the database counts them. */
  async function counts(filter: Parameters<typeof countOpenByStage>[2] = {}): Promise<Record<string, number>> {
    const byId = await countOpenByStage(t.database.db, processId, filter);
    return Object.fromEntries(stages.map((s) => [s.key, byId.get(s.id) ?? 0]));
  }

  /** Pages through one column from the join's last card to the end. */
  async function pageThrough(socket: TestSocket, snapshot: BoardSnapshot, stage: string, limit?: number): Promise<LeadCard[]> {
    const column = snapshot.leads.filter((l) => l.stage === stage);
    let complete = snapshot.columns[stage]!.complete;
    while (!complete) {
      const last = column.at(-1);
      const ack = await request<BoardPage>(socket, "board:page", {
        boardId: snapshot.boardId,
        stage,
        ...(limit ? { limit } : {}),
        ...(last ? { after: { rank: last.rank, id: last.id } } : {}),
      });
      if (!ack.ok) throw new Error(ack.error.message);
      expect(ack.data.cards.length).toBeLessThanOrEqual(limit ?? defaultPageLimit);
      column.push(...ack.data.cards);
      complete = ack.data.complete;
    }
    return column;
  }

  it("the join carries every column's total and only its first page, in column order", async () => {
    const { snapshot } = await joined();
    const expected = await counts();
    for (const stage of stages) {
      const column = snapshot.leads.filter((l) => l.stage === stage.key);
      const total = expected[stage.key]!;
      expect(snapshot.columns[stage.key]).toEqual({ total, complete: total <= defaultFirstPageSize });
      expect(column).toHaveLength(Math.min(total, defaultFirstPageSize));
      expect(column).toEqual(sortCards(column));
    }
    expect(snapshot.leads.length).toBeLessThan(1200);
    // Another first page size, asked for by the join.
    const small = await joined("admin", { pageSize: 10 });
    expect(small.snapshot.leads.filter((l) => l.stage === "inquiry")).toEqual(snapshot.leads.filter((l) => l.stage === "inquiry").slice(0, 10));
    expect(small.snapshot.columns.sales_acceptance).toEqual({ total: expected.sales_acceptance, complete: false });
  });

  it("paging through each column returns every lead exactly once, in order, complete at the end", async () => {
    const { socket, snapshot } = await joined();
    const whole = await readWholeBoard(server.app.services.boards, admin, boardId, "all");
    for (const stage of stages) {
      const column = await pageThrough(socket, snapshot, stage.key, stage.key === "inquiry" ? 77 : undefined);
      const ids = column.map((c) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(snapshot.columns[stage.key]!.total);
      for (let i = 1; i < column.length; i++) expect(compareCards(column[i - 1]!, column[i]!)).toBeLessThan(0);
      expect(ids).toEqual(whole.leads.filter((l) => l.stage === stage.key).map((l) => l.id));
    }
    // Past the last card: an empty, complete page.
    const last = whole.leads.filter((l) => l.stage === "inquiry").at(-1)!;
    const after = await request<BoardPage>(socket, "board:page", { boardId, stage: "inquiry", after: { rank: last.rank, id: last.id } });
    expect(after).toMatchObject({ ok: true, data: { cards: [], complete: true, seq: snapshot.seq } });
    // The stage may be named by its id too.
    const byId = await request<BoardPage>(socket, "board:page", { boardId, stage: stages[0]!.id, limit: 3 });
    expect(byId.ok && byId.data.cards.map((c) => c.id)).toEqual(whole.leads.slice(0, 3).map((c) => c.id));
  });

  it.each([
    ["salesperson", "sales_ready", { salesReady: true }],
    ["salesperson", "my_leads", "owner"],
  ] as const)("a %s's %s view: totals and pages hold only that view's leads", async (role, view, filter) => {
    const { socket, snapshot } = await joined(role, { view });
    expect(snapshot.view).toBe(view);
    const userId = users[role]!.id!;
    const expected = await counts(filter === "owner" ? { ownerId: userId } : filter);
    expect(Object.values(expected).some((n) => n > defaultFirstPageSize)).toBe(true);
    for (const stage of stages) {
      expect(snapshot.columns[stage.key]!.total).toBe(expected[stage.key]);
      const column = await pageThrough(socket, snapshot, stage.key, 13);
      expect(column).toHaveLength(expected[stage.key]!);
      for (const card of column) {
        if (view === "sales_ready") expect(card.salesReady).toBe(true);
        else expect(card.ownerId).toBe(userId);
      }
    }
  });

  it("a telemarketer's queue: columns outside it are empty and complete, and their pages too", async () => {
    const { socket, snapshot } = await joined("telemarketer", { view: "teleprospecting_queue" });
    for (const stage of stages) {
      const inQueue = isTeleprospectingStage(stage);
      expect(snapshot.columns[stage.key]!.total).toBe(inQueue ? layout[stage.key] : 0);
      if (inQueue) continue;
      const ack = await request<BoardPage>(socket, "board:page", { boardId, stage: stage.key });
      expect(ack).toMatchObject({ ok: true, data: { cards: [], complete: true } });
    }
  });

  it("refuses bad input, a board not joined and an unknown stage, and changes nothing", async () => {
    const outsider = connectSocket(server.url, cookies.admin);
    sockets.push(outsider);
    await waitForConnect(outsider);
    expect(await request(outsider, "board:page", { boardId, stage: "inquiry" })).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });

    const { socket, snapshot } = await joined();
    const first = snapshot.leads[0]!;
    for (const bad of [
      {},
      { boardId, stage: "" },
      { boardId: "not-an-id", stage: "inquiry" },
      { boardId, stage: "inquiry", limit: 0 },
      { boardId, stage: "inquiry", limit: 501 },
      { boardId, stage: "inquiry", limit: 2.5 },
      { boardId, stage: "inquiry", after: { rank: first.rank } },
      { boardId, stage: "inquiry", after: { rank: "", id: first.id } },
      { boardId, stage: "inquiry", extra: true },
    ]) {
      const ack = await request(socket, "board:page", bad);
      expect(ack, JSON.stringify(bad)).toMatchObject({ ok: false, error: { code: "INVALID_INPUT" } });
    }
    for (const pageSize of [0, 501, "10"]) {
      expect(await request(socket, "board:join", { pageSize })).toMatchObject({ ok: false, error: { code: "INVALID_INPUT" } });
    }
    expect(await request(socket, "board:page", { boardId, stage: "no_such_stage" })).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
    // Another board than the one joined.
    expect(await request(socket, "board:page", { boardId: crypto.randomUUID(), stage: "inquiry" })).toMatchObject({
      ok: false,
      error: { code: "FORBIDDEN" },
    });
    // Nothing was written: the board's seq did not move.
    expect((await server.app.services.boards.snapshot(boardId, new Date())).seq).toBe(snapshot.seq);
  });

  it("pages wait their turn in the sync admission limit, like joins; one waits per socket and column", async () => {
    const viewers = [await joined(), await joined(), await joined(), await joined(), await joined()];
    const boards = server.app.services.boards as unknown as { page: (...args: unknown[]) => Promise<unknown> };
    const original = boards.page;
    const stats = { running: 0, peak: 0 };
    let hold: Promise<void> | null = null;
    boards.page = async (...args: unknown[]) => {
      stats.running++;
      stats.peak = Math.max(stats.peak, stats.running);
      try {
        const held = hold && (args[1] as { stage: string }).stage === "inquiry" ? hold : null;
        await (held ?? new Promise((r) => setTimeout(r, 30)));
        return await original.apply(server.app.services.boards, args);
      } finally {
        stats.running--;
      }
    };
    try {
      // Every socket pages every column at once: 25 requests, each its own column of its own socket.
      const acks = await Promise.all(
        viewers.flatMap(({ socket }) => stages.map((s) => request<BoardPage>(socket, "board:page", { boardId, stage: s.key, limit: 5 }))),
      );
      expect(acks.every((a) => a.ok)).toBe(true);
      expect(stats.peak).toBe(defaultMaxConcurrentSyncs);

      // One socket, one column, three pages while the first runs: the second is superseded by the third.
      let release!: () => void;
      hold = new Promise<void>((r) => (release = r));
      const { socket } = viewers[0]!;
      const ask = () => request<BoardPage>(socket, "board:page", { boardId, stage: "inquiry", limit: 5 });
      const first = ask();
      await until(() => stats.running === 1);
      const [second, third] = [ask(), ask()];
      // Another column of the same socket is not in that lane.
      expect(await request<BoardPage>(socket, "board:page", { boardId, stage: "sales_acceptance", limit: 5 })).toMatchObject({ ok: true });
      expect(await second).toEqual({ ok: false, error: { code: "UNAVAILABLE", message: "Superseded by a newer request from this connection" } });
      release();
      hold = null;
      expect(await first).toMatchObject({ ok: true });
      expect(await third).toMatchObject({ ok: true });
    } finally {
      boards.page = original;
    }
    expect(viewers[0]!.snapshot.columns.inquiry!.complete).toBe(false);
  });

  it("a page that arrives after its leads were removed or moved does not bring them back or back in time", async () => {
    const client = new LiveBoardClient(server.url, { cookie: cookies.admin! });
    clients.push(client);
    client.start();
    await until(() => client.settled, 10_000);
    const { leads, lifecycle } = server.app.services;
    let removedId = "";
    let movedId = "";
    await client.loadPage("automated_marketing_qualification", 20, async (page) => {
      // Read at page.seq; before the answer is merged, someone removes one of its leads and moves another.
      const [gone, moving] = [page.cards[3]!, page.cards[8]!];
      removedId = gone.id;
      movedId = moving.id;
      await lifecycle.disqualify(admin, gone.id, { reason: "late page", expectedVersion: gone.version }, new Date());
      await leads.move(admin, { leadId: moving.id, toStage: "inquiry", expectedVersion: moving.version, override: true, reason: "late page" }, new Date());
      await until(() => client.seq >= page.seq + 2, 10_000);
    });
    expect(client.pageDecisions.removed).toBeGreaterThanOrEqual(1);
    expect(client.pageDecisions.known).toBeGreaterThanOrEqual(1);
    expect(client.cards.has(removedId)).toBe(false);
    expect(client.cards.get(movedId)?.stage).toBe("inquiry");
    await client.loadAll();
    const truth = await readWholeBoard(server.app.services.boards, admin, boardId, "all");
    expect(placements(client.cards.values())).toEqual(placements(truth.leads));
  });

  it("moves, creations and removals by someone else between pages: once loaded, the client equals a fresh read", async () => {
    const rnd = seeded(driver === "pglite" ? 11 : 23);
    const client = new LiveBoardClient(server.url, { cookie: cookies.admin! });
    clients.push(client);
    client.start();
    await until(() => client.settled, 10_000);
    expect(client.complete).toBe(false);
    const { leads, lifecycle } = server.app.services;
    const now = () => new Date();
    const open = async () =>
      (await t.database.db.select({ id: leadsTable.id }).from(leadsTable).where(and(eq(leadsTable.processId, processId), eq(leadsTable.status, "open")))).map((r) => r.id);
    let ids = await open();
    const pick = () => ids[Math.floor(rnd() * ids.length)]!;

    /** One change by someone else: a move next to a random lead, a new lead, or a removal. */
    async function change(): Promise<void> {
      const roll = rnd();
      if (roll < 0.2) {
        const card = await leads.create(admin, { topic: `Late lead ${ids.length}` }, now());
        ids.push(card.id);
      } else if (roll < 0.85) {
        const [moving, next] = [await leads.get(pick()), await leads.get(pick())];
        if (moving.id === next.id) return;
        await leads.move(admin, { leadId: moving.id, toStage: next.stage, beforeId: next.id, expectedVersion: moving.version, override: true, reason: "paging test" }, now());
      } else {
        const card = await leads.get(pick());
        await lifecycle.disqualify(admin, card.id, { reason: "paging test", expectedVersion: card.version }, now());
        ids = ids.filter((id) => id !== card.id);
      }
    }
    const lastSeq = async () => (await server.app.services.boards.snapshot(boardId, now(), { view: "all", userId: null }, 1)).seq;
    const caughtUp = async () => {
      const seq = await lastSeq();
      await until(() => client.settled && client.seq === seq, 10_000);
    };

    let steps = 0;
    while (!client.complete) {
      steps++;
      // Changes while a page is being read, and sometimes before the client has their events.
      const changes = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => change);
      await Promise.all([client.loadPage(undefined, 15 + Math.floor(rnd() * 60)), (async () => { for (const c of changes) await c(); })()]);
      if (rnd() < 0.4) {
        await caughtUp();
        // Caught up, nothing in flight: every incomplete column counts as the server does.
        const expected = await counts();
        for (const stage of stages) {
          const shown = loadedCards(sortCards([...client.cards.values()].filter((c) => c.stage === stage.key)), client.loads.get(stage.key));
          expect(columnCount(client.loads.get(stage.key), shown.length), stage.key).toBe(expected[stage.key]);
        }
      }
    }
    expect(steps).toBeGreaterThan(5);
    // Cards changed since the join came again in later pages, and the client kept its newer copies.
    expect(client.pageDecisions.known).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) await change();
    await caughtUp();
    const truth = await readWholeBoard(server.app.services.boards, admin, boardId, "all");
    expect(truth.snapshot.seq).toBe(client.seq);
    expect(placements(client.cards.values())).toEqual(placements(truth.leads));
    // The other viewer's client, joined now, sees the same board.
    const late = new LiveBoardClient(server.url, { cookie: cookies.admin! });
    clients.push(late);
    late.start();
    await until(() => late.settled, 10_000);
    await late.loadAll();
    expect(placements(late.cards.values())).toEqual(placements(client.cards.values()));
  });
});
