import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boards } from "../../drizzle/schema.ts";
import type { BoardEvent, BoardSnapshot, LeadCard } from "../../shared/board.ts";
import { createApp, type App } from "../../server/app.ts";
import { openPostgres, queryRows, type Database } from "../../server/db/client.ts";
import { followerApplicationName } from "../../server/services/board-follower.ts";
import type { Actor } from "../../server/services/actor.ts";
import { makeLead, makeUser, silentLogger } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { connectSocket, login, request, until, waitForConnect, type TestSocket } from "../support/server.ts";

if (!drivers.includes("postgres")) {
  console.info("multi-node tests skipped: set TEST_DATABASE_URL to a PostgreSQL server to run them");
}

interface Client {
  socket: TestSocket;
  events: BoardEvent[];
  boardId: string;
}

interface Node {
  app: App;
  url: string;
  cookie: string;
  /** While set, this node's follower ignores every notification (as if each were lost). */
  deaf: boolean;
  ignored: number;
}

describe.runIf(drivers.includes("postgres"))("board events across two nodes on postgres", () => {
  let t: TestDatabase;
  let secondDatabase: Database;
  const nodes: Node[] = [];
  let admin: Actor;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase("postgres");
    secondDatabase = await openPostgres(t.url!);
    for (const database of [t.database, secondDatabase]) {
      const node = { deaf: false, ignored: 0, cookie: "" } as Node;
      node.app = await createApp({
        database,
        logger: silentLogger,
        scoring: { autoStart: false },
        socketAdapter: { url: t.url!, heartbeatMs: 1_000 },
        boardFollower: {
          pollMs: 200,
          acceptNotification: () => {
            if (node.deaf) node.ignored++;
            return !node.deaf;
          },
        },
      });
      node.url = (await node.app.listen(0, "127.0.0.1")).url;
      nodes.push(node);
    }
    for (const node of nodes) {
      const deadline = Date.now() + 10_000;
      while ((await node.app.io.of("/").adapter.serverCount()) !== 2) {
        if (Date.now() > deadline) throw new Error("the two nodes did not find each other");
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const a = await makeUser(nodes[0]!.app.services.auth, "admin", "Ada Admin");
    admin = a.actor;
    for (const node of nodes) node.cookie = await login(node.url, a.user.email);
  });
  afterAll(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    for (const node of nodes) await node.app.close();
    await secondDatabase?.close();
    await t?.close();
  });

  async function join(node: Node): Promise<Client> {
    const socket = connectSocket(node.url, node.cookie);
    sockets.push(socket);
    const events: BoardEvent[] = [];
    socket.on("board:event", (e) => events.push(e));
    await waitForConnect(socket);
    const ack = await request<BoardSnapshot>(socket, "board:join", { view: "all" });
    if (!ack.ok) throw new Error(ack.error.message);
    return { socket, events, boardId: ack.data.boardId };
  }

  async function lastSeq(boardId: string): Promise<number> {
    return (await t.database.db.select({ seq: boards.lastSeq }).from(boards).where(eq(boards.id, boardId)))[0]!.seq;
  }

  const seqsAfter = (c: Client, after: number) => c.events.filter((e) => e.seq > after).map((e) => e.seq);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  /** Every client has every event in (after, last], once each and in seq order. */
  async function expectEveryClientHasAll(clients: Client[], after: number, last: number): Promise<void> {
    await until(() => clients.every((c) => (c.events.at(-1)?.seq ?? 0) >= last), 15_000);
    for (const c of clients) expect(seqsAfter(c, after)).toEqual(range(after + 1, last));
  }

  /** Moves the lead back and forth `times` times through the given client, one move after another. */
  async function moveBackAndForth(c: Client, lead: LeadCard, times: number): Promise<LeadCard> {
    let card = lead;
    for (let i = 0; i < times; i++) {
      const toStage = i % 2 === 0 ? "automated_marketing_qualification" : "inquiry";
      const ack = await request<LeadCard>(c.socket, "lead:move", { leadId: lead.id, toStage, expectedVersion: card.version });
      if (!ack.ok) throw new Error(ack.error.message);
      card = ack.data;
    }
    return card;
  }

  it("delivers concurrent moves on both nodes to every client on each, once and in seq order", async () => {
    const clients = [await join(nodes[0]!), await join(nodes[0]!), await join(nodes[1]!), await join(nodes[1]!)];
    const boardId = clients[0]!.boardId;
    const leads = await Promise.all(Array.from({ length: 6 }, () => makeLead(t.database.db, nodes[0]!.app.services.leads, admin)));
    const before = await lastSeq(boardId);
    await until(() => clients.every((c) => (c.events.at(-1)?.seq ?? 0) >= before), 15_000);

    // Movers on both nodes at once: the nodes' commits interleave on one board.
    const movers = [clients[0]!, clients[1]!, clients[2]!, clients[3]!, clients[0]!, clients[2]!];
    await Promise.all(leads.map((lead, i) => moveBackAndForth(movers[i]!, lead, 5)));
    const after = await lastSeq(boardId);
    expect(after - before).toBeGreaterThanOrEqual(30);

    await expectEveryClientHasAll(clients, before, after);
    for (const c of clients) expect(c.events.filter((e) => e.seq > before).every((e) => e.type === "lead.moved")).toBe(true);
  });

  it("delivers through the poll what a lost notification did not announce", async () => {
    const onA = await join(nodes[0]!);
    const onB = await join(nodes[1]!);
    const lead = await makeLead(t.database.db, nodes[0]!.app.services.leads, admin);
    const before = await lastSeq(onA.boardId);
    await until(() => [onA, onB].every((c) => (c.events.at(-1)?.seq ?? 0) >= before), 15_000);

    nodes[1]!.deaf = true;
    try {
      await moveBackAndForth(onA, lead, 4);
      const after = await lastSeq(onA.boardId);
      await expectEveryClientHasAll([onA, onB], before, after);
      // Node B did hear the notifications and dropped them: its clients were served by the poll.
      expect(nodes[1]!.ignored).toBeGreaterThan(0);
    } finally {
      nodes[1]!.deaf = false;
    }
  });

  it("keeps delivering while the LISTEN connections are cut, and listens again", async () => {
    const listeners = async () =>
      (
        await queryRows<{ n: number }>(
          t.database.db,
          sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = ${followerApplicationName}`,
        )
      )[0]!.n;
    expect(await listeners()).toBe(2);
    const onA = await join(nodes[0]!);
    const onB = await join(nodes[1]!);
    const lead = await makeLead(t.database.db, nodes[0]!.app.services.leads, admin);
    const before = await lastSeq(onA.boardId);
    await until(() => [onA, onB].every((c) => (c.events.at(-1)?.seq ?? 0) >= before), 15_000);

    await queryRows(
      t.database.db,
      sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = ${followerApplicationName}`,
    );
    const moved = await moveBackAndForth(onB, lead, 4);
    await expectEveryClientHasAll([onA, onB], before, await lastSeq(onA.boardId));

    const deadline = Date.now() + 15_000;
    while ((await listeners()) !== 2) {
      if (Date.now() > deadline) throw new Error("the followers did not LISTEN again");
      await new Promise((r) => setTimeout(r, 50));
    }
    // Woken by notifications again: with both nodes listening, a move on A reaches B.
    const mid = await lastSeq(onA.boardId);
    await moveBackAndForth(onA, moved, 2);
    await expectEveryClientHasAll([onA, onB], mid, await lastSeq(onA.boardId));
  });
});
