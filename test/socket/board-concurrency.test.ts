import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { boards } from "../../drizzle/schema.ts";
import type { BoardEvent, BoardSnapshot, LeadCard, ResyncResult } from "../../shared/board.ts";
import type { Actor } from "../../server/services/actor.ts";
import type { Database } from "../../server/db/client.ts";
import { maxReplayEvents } from "../../server/services/board-service.ts";
import { makeLead, makeUser } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { eventKey, LiveBoardClient, placements } from "../support/live-client.ts";
import { applySerially, sortedState, stateOf } from "../support/serial-moves.ts";
import { readWholeBoard } from "../support/whole-board.ts";
import { modelInput } from "../support/scoring.ts";
import { connectSocket, login, request, restartTestServer, startTestServer, until, waitForConnect, type TestServer } from "../support/server.ts";
import { seededRandom } from "../../server/services/demo-data.ts";

const stageKeys = [
  "inquiry",
  "automated_marketing_qualification",
  "teleprospecting_acceptance",
  "teleprospecting_qualification",
  "sales_acceptance",
];

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One database and server per block; `server` changes when a test restarts it. */
function world(driver: (typeof drivers)[number]) {
  const w = {} as { t: TestDatabase; server: TestServer; admin: Actor; cookie: string; clients: LiveBoardClient[] };
  beforeAll(async () => {
    w.t = await openTestDatabase(driver);
    w.server = await startTestServer(w.t.database);
    const a = await makeUser(w.server.app.services.auth, "admin", "Ada Admin");
    w.admin = a.actor;
    w.cookie = await login(w.server.url, a.user.email);
    w.clients = [];
  });
  afterAll(async () => {
    for (const c of w.clients) c.stop();
    await w.server?.close();
    await w.t?.close();
  });
  return w;
}

async function lastSeqOf(database: Database, boardId: string): Promise<number> {
  return (await database.db.select({ seq: boards.lastSeq }).from(boards).where(eq(boards.id, boardId)))[0]!.seq;
}

/** The board's log after `sinceSeq`, read the way a client reads it. */
async function logSince(server: TestServer, cookie: string, boardId: string, sinceSeq: number): Promise<BoardEvent[]> {
  const socket = connectSocket(server.url, cookie);
  try {
    await waitForConnect(socket);
    const ack = await request<ResyncResult>(socket, "board:resync", { boardId, sinceSeq });
    if (!ack.ok || !("events" in ack.data)) throw new Error("expected a replay");
    return ack.data.events;
  } finally {
    socket.disconnect();
  }
}

async function startClients(w: ReturnType<typeof world>, count: number, cookies: string[] = [w.cookie]): Promise<LiveBoardClient[]> {
  const list = Array.from({ length: count }, (_, i) => new LiveBoardClient(w.server.url, { cookie: cookies[i % cookies.length]! }));
  w.clients.push(...list);
  for (const c of list) c.start();
  await until(() => list.every((c) => c.settled), 20_000);
  return list;
}

describe.each(drivers)("seq under concurrent writers on %s", (driver) => {
  const w = world(driver);

  it("every client receives 1..N contiguous, in the same order as the log, whoever writes", async () => {
    const { server, admin } = w;
    const leads = server.app.services.leads;
    const movers = await Promise.all([0, 1, 2].map(() => makeLead(w.t.database.db, leads, admin)));
    const edited = await makeLead(w.t.database.db, leads, admin);
    const scored = await Promise.all([0, 1].map(() => makeLead(w.t.database.db, leads, admin)));
    await server.app.services.scoringModels.create(
      admin,
      modelInput([{ kind: "behavior", interaction: "email_opened", points: 1, frequency: "each" }], { threshold: 10_000 }),
      new Date(),
    );
    await server.app.scoring.rescores.idle();
    // New leads are scored (and may leave Inquiry) in the background: settle that first, so
    // the writers below know their leads' versions.
    await server.app.scoring.worker.stop();
    await server.app.scoring.worker.drain();
    server.app.scoring.worker.start();
    const key = (await server.app.services.apiKeys.create(admin, { name: "ingest", scopes: ["ingest"] }, new Date())).key;
    const clients = await startClients(w, 4);
    const start = clients[0]!.seq;
    for (const c of clients) expect(c.seq).toBe(start);

    const writers: Array<Promise<unknown>> = [];
    // Moves over three sockets, each on its own lead, back and forth.
    movers.forEach((lead, i) =>
      writers.push(
        (async () => {
          for (let k = 0; k < 10; k++) {
            // (Scoring may have moved it out of Inquiry already: go to the other column.)
            const here = clients[i]!.cards.get(lead.id)!.stage;
            const out = await clients[i]!.move(lead.id, here === "inquiry" ? "automated_marketing_qualification" : "inquiry");
            expect(out.ack?.ok).toBe(true);
          }
        })(),
      ),
    );
    // Edits over HTTP.
    writers.push(
      (async () => {
        let version = (await leads.get(edited.id)).version;
        for (let k = 0; k < 10; k++) {
          const res = await fetch(`${server.url}/api/leads/${edited.id}`, {
            method: "PATCH",
            headers: { "content-type": "application/json", cookie: w.cookie },
            body: JSON.stringify({ expectedVersion: version, topic: `Edited ${k}` }),
          });
          expect(res.status).toBe(200);
          version = ((await res.json()) as LeadCard).version;
        }
      })(),
    );
    // New leads through the service, and interactions that the live scorer turns into score events.
    writers.push((async () => { for (let k = 0; k < 8; k++) await makeLead(w.t.database.db, leads, admin); })());
    writers.push(
      (async () => {
        for (let k = 0; k < 6; k++) {
          const res = await fetch(`${server.url}/api/interactions`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify(scored.map((l) => ({ type: "email_opened", contactId: l.contactId }))),
          });
          expect(res.status).toBe(200);
          await sleep(30);
        }
      })(),
    );
    await Promise.all(writers);
    // Stop the scorer after its current round and score what is still queued, so the log stops growing.
    await server.app.scoring.worker.stop();
    await server.app.scoring.worker.drain();

    const boardId = clients[0]!.boardId!;
    const last = await lastSeqOf(w.t.database, boardId);
    await until(() => clients.every((c) => c.settled && c.seq === last), 20_000);
    const log = await logSince(server, w.cookie, boardId, start);
    expect(log.map((e) => e.seq)).toEqual(Array.from({ length: last - start }, (_, i) => start + 1 + i));
    const types = new Set(log.map((e) => e.type));
    for (const type of ["lead.moved", "lead.updated", "lead.created", "lead.scored"]) expect(types).toContain(type);
    for (const c of clients) {
      expect(c.applied.map((a) => a.seq)).toEqual(log.map((e) => e.seq));
      expect(c.applied.map((a) => a.key)).toEqual(log.map(eventKey));
    }
  }, 90_000);
});

describe.each(drivers)("random conflicting moves on %s", (driver) => {
  const w = world(driver);

  it("each move wins or is refused, nothing is lost, the accepted ones replay serially to the final state, every board converges", async () => {
    const { server } = w;
    const auth = server.app.services.auth;
    const users = await Promise.all([0, 1, 2].map((i) => makeUser(auth, "admin", `Mover ${i}`)));
    const cookies = await Promise.all(users.map((u) => login(server.url, u.user.email)));
    const db = w.t.database.db;
    const leads = server.app.services.leads;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await makeLead(db, leads, w.admin)).id);
    ids.push((await makeLead(db, leads, w.admin, { withContact: false })).id);
    ids.push((await makeLead(db, leads, w.admin, { stage: "automated_marketing_qualification" })).id);
    ids.push((await makeLead(db, leads, w.admin, { stage: "teleprospecting_acceptance", flags: { readyForTeleprospecting: true } })).id);

    const clients = await startClients(w, 6, cookies);
    const boardId = clients[0]!.boardId!;
    const initial = (await readWholeBoard(server.app.services.boards, w.admin, boardId)).leads;
    const startSeq = clients[0]!.seq;
    for (const c of clients) expect(c.seq).toBe(startSeq);

    type Outcome = Awaited<ReturnType<LiveBoardClient["move"]>>;
    const outcomes: Outcome[] = [];
    await Promise.all(
      clients.map(async (client, i) => {
        const random = seededRandom(1000 + i);
        for (let k = 0; k < 25; k++) {
          const leadId = pick(random, ids);
          const card = client.cards.get(leadId)!;
          const toStage = pick(random, stageKeys);
          const column = [...client.cards.values()].filter((c) => c.stage === toStage && c.id !== leadId).sort((a, b) => (a.rank < b.rank ? -1 : 1));
          const at = Math.floor(random() * (column.length + 1));
          const where = { ...(column[at - 1] ? { afterId: column[at - 1]!.id } : {}), ...(column[at] ? { beforeId: column[at]!.id } : {}) };
          const stale = random() < 0.3 ? { expectedVersion: card.version > 1 ? card.version - 1 : card.version + 3 } : {};
          const out = await client.move(leadId, toStage, where, { ...stale, skipGate: random() < 0.3 });
          if (out.kind === "sent") outcomes.push(out);
          await sleep(Math.floor(random() * 8));
        }
      }),
    );

    const accepted = outcomes.filter((o) => o.ack!.ok);
    const refused = outcomes.filter((o) => !o.ack!.ok);
    expect(accepted.length).toBeGreaterThan(5);
    expect(refused.length).toBeGreaterThan(5);
    for (const o of refused) {
      expect(["CONFLICT", "ILLEGAL_TRANSITION"]).toContain(o.ack!.ok ? "" : o.ack!.error.code);
      expect(o.rolledBack).toBe(true);
    }
    expect(refused.some((o) => !o.ack!.ok && o.ack!.error.code === "ILLEGAL_TRANSITION")).toBe(true);

    const last = await lastSeqOf(w.t.database, boardId);
    await until(() => clients.every((c) => c.settled && c.seq === last), 20_000);
    const log = await logSince(server, w.cookie, boardId, startSeq);
    // Every event of the window is one accepted move, and every accepted move has exactly one event.
    expect(log.every((e) => e.type === "lead.moved")).toBe(true);
    expect(log).toHaveLength(accepted.length);
    const seqOf = new Map(log.map((e) => [eventKey(e), e.seq]));
    const ordered = accepted
      .map((o) => ({ move: o.payload!, seq: seqOf.get(`lead.moved:${o.payload!.leadId}:${o.ack!.ok ? o.ack!.data.version : 0}`) }))
      .sort((a, b) => a.seq! - b.seq!);
    expect(ordered.every((o) => o.seq !== undefined)).toBe(true);

    // The accepted moves, one after another in seq order, from the initial board: exactly the final board.
    const serial = stateOf(initial);
    for (const { move } of ordered) applySerially(serial, move);
    const final = await readWholeBoard(server.app.services.boards, w.admin, boardId);
    expect(sortedState(serial)).toEqual(sortedState(stateOf(final.leads)));
    // Every client's board, built from its snapshot, its pages and the events, is the server's.
    for (const c of clients) {
      await c.loadAll();
      expect(c.pending.size).toBe(0);
      expect(placements(c.cards.values())).toEqual(placements(final.leads));
    }
  }, 90_000);
});

describe.each(drivers)("concurrent moves into one column on %s", (driver) => {
  const w = world(driver);

  it("land in the order they commit, each with its own place (no two computed from the same column state)", async () => {
    const leads = w.server.app.services.leads;
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await makeLead(w.t.database.db, leads, w.admin)).id);
    const clients = await startClients(w, 5);
    const startSeq = clients[0]!.seq;
    const outcomes = await Promise.all(ids.map((id, i) => clients[i % clients.length]!.move(id, "automated_marketing_qualification")));
    expect(outcomes.every((o) => o.ack?.ok)).toBe(true);
    const log = await logSince(w.server, w.cookie, clients[0]!.boardId!, startSeq);
    const final = await readWholeBoard(w.server.app.services.boards, w.admin, clients[0]!.boardId!);
    const column = final.leads.filter((l) => l.stage === "automated_marketing_qualification").sort((a, b) => (a.rank < b.rank ? -1 : 1));
    expect(new Set(column.map((l) => l.rank)).size).toBe(column.length);
    // Each appended to the bottom as the column was when it committed.
    expect(column.map((l) => l.id)).toEqual(log.map((e) => (e.type === "lead.moved" ? e.lead.id : "")));
  });
});

describe.each(drivers)("catching up on %s", (driver) => {
  const w = world(driver);

  it("after a dropped connection the client reconnects by itself and replays exactly what it missed", async () => {
    const lead = await makeLead(w.t.database.db, w.server.app.services.leads, w.admin);
    const [away, mover] = await startClients(w, 2);
    const seen = away!.seq;
    // A network drop: the transport closes under the socket (not a disconnect the client asked for).
    away!.socket.io.engine.close();
    await until(() => !away!.socket.connected);
    for (const toStage of ["automated_marketing_qualification", "inquiry", "automated_marketing_qualification"]) {
      expect((await mover!.move(lead.id, toStage)).ack?.ok).toBe(true);
    }
    await until(() => away!.settled && away!.seq === seen + 3, 20_000);
    expect(away!.applied.filter((a) => a.seq > seen).map(({ seq }) => seq)).toEqual([seen + 1, seen + 2, seen + 3]);
    expect(away!.snapshots).toHaveLength(1);
    expect(away!.cards.get(lead.id)).toMatchObject({ stage: "automated_marketing_qualification", version: 4 });
  });

  it("after a server restart every client resumes by replay, including moves made while it was down", async () => {
    const lead = await makeLead(w.t.database.db, w.server.app.services.leads, w.admin);
    const clients = await startClients(w, 3);
    const seen = clients.map((c) => c.seq);
    const old = w.server;
    w.server = await restartTestServer(old, w.t.database, undefined, {
      whileDown: async () => {
        await old.app.services.leads.move(w.admin, { leadId: lead.id, toStage: "automated_marketing_qualification", expectedVersion: 1 }, new Date());
      },
    });
    const last = await lastSeqOf(w.t.database, clients[0]!.boardId!);
    await until(() => clients.every((c) => c.settled && c.seq === last), 30_000);
    // The new server keeps broadcasting to the reconnected clients.
    expect((await clients[0]!.move(lead.id, "inquiry")).ack?.ok).toBe(true);
    await until(() => clients.every((c) => c.seq === last + 1), 10_000);
    const final = await readWholeBoard(w.server.app.services.boards, w.admin, clients[0]!.boardId!);
    for (const c of clients) await c.loadAll();
    clients.forEach((c, i) => {
      expect(c.applied.filter((a) => a.seq > seen[i]!).map((a) => a.seq)).toEqual(
        Array.from({ length: last + 1 - seen[i]! }, (_, k) => seen[i]! + 1 + k),
      );
      expect(c.snapshots).toHaveLength(1);
      expect(c.replays).toBeGreaterThanOrEqual(1);
      expect(placements(c.cards.values())).toEqual(placements(final.leads));
    });
  }, 60_000);

  it(`after missing more than ${maxReplayEvents} events a client gets a snapshot instead of a replay`, async () => {
    const lead = await makeLead(w.t.database.db, w.server.app.services.leads, w.admin);
    const [client] = await startClients(w, 1);
    const old: BoardSnapshot = await w.server.app.services.boards.snapshot(client!.boardId!, new Date());
    client!.stop();
    let version = lead.version;
    for (let k = 0; k <= maxReplayEvents; k++) {
      const to = k % 2 === 0 ? "automated_marketing_qualification" : "inquiry";
      version = (await w.server.app.services.leads.move(w.admin, { leadId: lead.id, toStage: to, expectedVersion: version }, new Date())).version;
    }
    const back = new LiveBoardClient(w.server.url, { cookie: w.cookie, initial: old });
    w.clients.push(back);
    back.start();
    const last = await lastSeqOf(w.t.database, client!.boardId!);
    await until(() => back.settled && back.seq === last, 20_000);
    expect(back.snapshots).toEqual([old.seq, last]);
    expect(back.replays).toBe(0);
    expect(back.cards.get(lead.id)).toMatchObject({ version });
  }, 90_000);
});
