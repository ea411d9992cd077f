/**
 * A node dies mid-stream and its clients carry on on another, missing nothing.
 *
 * Two nodes share one PostgreSQL database (SOCKET_ADAPTER=postgres). Node A is a real server
 * process (`server/index.ts`, as `npm start` runs it) so that it can be killed as a crash
 * kills it: SIGKILL, no drain, no goodbye to its sockets or its database connections. Node B
 * runs in this process. Clients reach A through a stand-in load balancer that sends each new
 * connection to the first node that accepts it; they are LiveBoardClients (the client's own
 * reconnect driver and seq rules), so after the kill they come back by themselves, land on B
 * and resync from their last seq. A mover keeps moving leads on B throughout.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boards } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import { createApp, type App } from "../../server/app.ts";
import type { Actor } from "../../server/services/actor.ts";
import { makeLead, makeUser, silentLogger } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { FailoverBalancer } from "../support/failover-balancer.ts";
import { eventKey, LiveBoardClient, placements } from "../support/live-client.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { connectSocket, login, request, until, waitForConnect, type TestSocket } from "../support/server.ts";
import { readWholeBoard } from "../support/whole-board.ts";
import { seededRandom } from "../../server/services/demo-data.ts";

if (!drivers.includes("postgres")) {
  console.info("node failover tests skipped: set TEST_DATABASE_URL to a PostgreSQL server to run them");
}


const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * Moves leads back and forth through one socket, one move after another, as many as it is
 * allowed (so the test decides how many events fall in each phase, not the clock).
 */
class Mover {
  moves = 0;
  limit = 0;
  readonly errors: string[] = [];
  #stop = false;
  #done: Promise<void> | undefined;

  constructor(
    private readonly socket: TestSocket,
    private readonly leads: LeadCard[],
  ) {}

  start(): void {
    this.#done = (async () => {
      const cards = [...this.leads];
      while (!this.#stop) {
        if (this.moves >= this.limit) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const i = this.moves % cards.length;
        const card = cards[i]!;
        const toStage = card.stage === "inquiry" ? "automated_marketing_qualification" : "inquiry";
        const ack = await request<LeadCard>(this.socket, "lead:move", { leadId: card.id, toStage, expectedVersion: card.version });
        if (!ack.ok) {
          this.errors.push(`${ack.error.code}: ${ack.error.message}`);
          return;
        }
        cards[i] = ack.data;
        this.moves++;
      }
    })();
  }

  allow(more: number): void {
    this.limit += more;
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await this.#done;
  }
}

describe.runIf(drivers.includes("postgres"))("a node killed mid-stream on postgres", () => {
  let t: TestDatabase;
  let nodeB: App;
  let urlB: string;
  let nodeA: ServerProcess | undefined;
  let balancer: FailoverBalancer | undefined;
  let admin: Actor;
  let cookie: string;
  let leads: LeadCard[];
  const clients: LiveBoardClient[] = [];
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase("postgres");
    nodeB = await createApp({
      database: t.database,
      logger: silentLogger,
      scoring: { autoStart: false },
      socketAdapter: { url: t.url!, heartbeatMs: 1_000 },
    });
    urlB = (await nodeB.listen(0, "127.0.0.1")).url;
    const a = await makeUser(nodeB.services.auth, "admin", "Ada Admin");
    admin = a.actor;
    leads = [];
    for (let i = 0; i < 4; i++) leads.push(await makeLead(t.database.db, nodeB.services.leads, admin));

    nodeA = startServerProcess({
      DATABASE_URL: t.url!,
      SOCKET_ADAPTER: "postgres",
      SEED_DEMO: "0",
      SIMULATE: "0",
    });
    const urlA = new URL(await nodeA.ready);
    const b = new URL(urlB);
    balancer = new FailoverBalancer([
      { host: urlA.hostname, port: Number(urlA.port) },
      { host: b.hostname, port: Number(b.port) },
    ]);
    await balancer.start();
    // One session, valid on every node: sessions live in the shared database.
    cookie = await login(balancer.url, a.user.email);
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.stop();
    for (const s of sockets) s.disconnect();
    await balancer?.close();
    if (nodeA) await nodeA.stop("SIGKILL");
    await nodeB?.close();
    await t?.close();
  });

  const lastSeq = async (boardId: string) =>
    (await t.database.db.select({ seq: boards.lastSeq }).from(boards).where(eq(boards.id, boardId)))[0]!.seq;

  it("the dead node's clients reconnect to the other, replay what they missed, and end with the same contiguous history", async () => {
    // Six clients through the balancer (on A while it lives), two straight on B.
    const viaBalancer = Array.from({ length: 6 }, (_, i) => new LiveBoardClient(balancer!.url, { cookie, random: seededRandom(i + 1) }));
    const onB = Array.from({ length: 2 }, (_, i) => new LiveBoardClient(urlB, { cookie, random: seededRandom(i + 101) }));
    clients.push(...viaBalancer, ...onB);
    for (const c of clients) c.start();
    await until(() => clients.every((c) => c.settled), 30_000);
    const boardId = clients[0]!.boardId!;
    expect(clients.every((c) => c.boardId === boardId)).toBe(true);
    // Every connection through the balancer reached node A (index 0).
    expect(balancer!.routed.length).toBeGreaterThanOrEqual(viaBalancer.length);
    expect(balancer!.routed.every((n) => n === 0)).toBe(true);
    const routedBeforeKill = balancer!.routed.length;

    const before = await lastSeq(boardId);
    await until(() => clients.every((c) => c.seq === before), 15_000);

    // The mover works on node B from start to end.
    const moverSocket = connectSocket(urlB, cookie);
    sockets.push(moverSocket);
    await waitForConnect(moverSocket);
    const mover = new Mover(moverSocket, leads);
    mover.start();
    mover.allow(30);

    // Mid-stream: A's clients have been following live events, the mover is still moving...
    await until(() => mover.moves >= 15 && viaBalancer.every((c) => c.seq >= before + 5), 30_000);
    // ...when node A dies. The balancer holds new connections (as one does until its health
    // check notices), so A's clients are certainly away while the mover goes on.
    balancer!.hold();
    nodeA!.child.kill("SIGKILL");
    expect(await nodeA!.exited).toBeNull();
    expect(nodeA!.child.signalCode).toBe("SIGKILL");
    await until(() => viaBalancer.every((c) => !c.socket.connected), 15_000);
    const seqAtKill = Math.max(...viaBalancer.map((c) => c.seq));
    // Moves while they are away, at least 10 after the last of them dropped.
    mover.allow(20);
    await until(() => mover.moves === mover.limit && balancer!.waiting >= viaBalancer.length, 30_000);
    // They came back by themselves (the reconnect driver) and wait at the balancer; it sends
    // them on: A's port refuses, so they land on B. The mover goes on meanwhile, so live
    // events interleave with the replays.
    mover.allow(20);
    balancer!.release();
    await until(() => viaBalancer.every((c) => c.connects === 2 && c.settled), 30_000);
    mover.allow(10);
    await until(() => mover.moves === mover.limit, 30_000);
    await mover.stop();
    expect(mover.errors).toEqual([]);

    const last = await lastSeq(boardId);
    expect(last).toBe(before + mover.moves);
    await until(() => clients.every((c) => c.settled && c.seq === last), 30_000);

    // Every reconnection after the kill reached node B.
    expect(balancer!.routed.slice(routedBeforeKill).length).toBeGreaterThanOrEqual(viaBalancer.length);
    expect(balancer!.routed.slice(routedBeforeKill).every((n) => n === 1)).toBe(true);

    const streamOf = (c: LiveBoardClient) => c.applied.filter((a) => a.seq > before);
    const reference = streamOf(onB[0]!).map((a) => ({ seq: a.seq, key: a.key }));
    expect(reference.map((a) => a.seq)).toEqual(range(before + 1, last));
    const truth = placements((await readWholeBoard(nodeB.services.boards, admin, boardId)).leads);
    for (const c of clients) {
      // Gap-free and duplicate-free over the whole life of the client, from its one snapshot.
      expect(c.snapshots).toEqual([before]);
      expect(c.applied.map((a) => a.seq)).toEqual(range(before + 1, last));
      // The same events as a client on the surviving node saw, in the same order.
      expect(streamOf(c).map((a) => ({ seq: a.seq, key: a.key }))).toEqual(reference);
      expect(c.syncErrors).toEqual([]);
      expect(c.driver.fatal).toBeNull();
      expect(placements(c.cards.values())).toEqual(truth);
    }
    for (const c of onB) {
      expect(c.connects).toBe(1);
      expect(c.applied.every((a) => a.via === "live")).toBe(true);
    }
    for (const c of viaBalancer) {
      // Resumed by replay from its last seq, not reloaded: what it missed while away came as events.
      expect(c.replays).toBeGreaterThanOrEqual(1);
      const replayed = c.applied.filter((a) => a.via === "replay").map((a) => a.seq);
      expect(replayed.length).toBeGreaterThanOrEqual(10);
      expect(replayed[0]!).toBeGreaterThan(before);
      expect(replayed[0]!).toBeLessThanOrEqual(seqAtKill + 1);
      // Live before the kill (from A) and live again after the return (from B).
      expect(c.applied.some((a) => a.via === "live" && a.seq <= seqAtKill)).toBe(true);
      expect(c.applied.some((a) => a.via === "live" && a.seq > replayed.at(-1)!)).toBe(true);
    }
    // The event types are the mover's moves, one event per move.
    expect(reference.every((a) => a.key.startsWith("lead.moved:"))).toBe(true);
  }, 120_000);
});
