import { AsyncLocalStorage } from "node:async_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { boards } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import type { App } from "../../server/app.ts";
import type { Actor } from "../../server/services/actor.ts";
import { defaultMaxConcurrentSyncs } from "../../server/socket/sync-limiter.ts";
import { backoffCeiling, defaultBackoff } from "../../client/src/lib/reconnect.ts";
import { makeLead, makeUser } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { readWholeBoard } from "../support/whole-board.ts";
import { LiveBoardClient, placements } from "../support/live-client.ts";
import { login, restartTestServer, startTestServer, until, type TestServer } from "../support/server.ts";
import { seededRandom } from "../../server/services/demo-data.ts";


/**
 * Counts the board syncs (join snapshots and resyncs) the server runs at once, at the
 * service the socket handlers call. A resync that falls back to a snapshot counts once.
 */
function measureSyncs(app: App, slowMs = 0) {
  const inside = new AsyncLocalStorage<true>();
  const stats = { running: 0, peak: 0, calls: 0 };
  const boards = app.services.boards as unknown as Record<"snapshot" | "resync", (...args: unknown[]) => Promise<unknown>>;
  for (const name of ["snapshot", "resync"] as const) {
    const original = boards[name].bind(boards);
    boards[name] = async (...args: unknown[]) => {
      if (inside.getStore()) return original(...args);
      stats.calls++;
      stats.running++;
      stats.peak = Math.max(stats.peak, stats.running);
      try {
        if (slowMs > 0) await new Promise((r) => setTimeout(r, slowMs));
        return await inside.run(true, () => original(...args));
      } finally {
        stats.running--;
      }
    };
  }
  return stats;
}

/** The largest share of `times` (ms) that falls in any window of `windowMs`. */
function densestWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best / sorted.length;
}

const clientCount = 1000;

describe.each(drivers)("a thousand clients through a server restart on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  let cookie: string;
  let leads: LeadCard[];
  const clients: LiveBoardClient[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const a = await makeUser(server.app.services.auth, "admin", "Ada Admin");
    admin = a.actor;
    cookie = await login(server.url, a.user.email);
    leads = [];
    for (let i = 0; i < 8; i++) leads.push(await makeLead(t.database.db, server.app.services.leads, admin));
  });
  afterAll(async () => {
    for (const c of clients) c.stop();
    await server?.close();
    await t?.close();
  });

  const lastSeq = async () => (await t.database.db.select({ seq: boards.lastSeq }).from(boards).where(eq(boards.id, clients[0]!.boardId!)))[0]!.seq;

  it("every client comes back by itself, spread out, and catches up by replay without missing anything", async () => {
    // Pages that already show the board connect in batches, as people arriving over time
    // would (the setup is not under test); each catches up from the board it shows.
    const initial = await server.app.services.boards.snapshot((await server.app.services.boards.resolveBoard(admin, {})).id, new Date());
    for (let i = 0; i < clientCount; i += 100) {
      const batch = Array.from(
        { length: 100 },
        // They stand for pages open long before the restart: their connections count as stable.
        (_, k) => new LiveBoardClient(server.url, { cookie, initial, random: seededRandom(i + k + 1), stableAfterMs: 0 }),
      );
      clients.push(...batch);
      for (const c of batch) c.start();
      await until(() => batch.every((c) => c.settled), 30_000);
    }
    const before = await lastSeq();
    expect(clients.every((c) => c.seq === before)).toBe(true);

    // The restart: the server goes away, moves are committed meanwhile (by another node), a new server takes the port.
    const old = server;
    let upAt = 0;
    let syncs = { running: 0, peak: 0, calls: 0 };
    const downAt = Date.now();
    server = await restartTestServer(old, t.database, undefined, {
      whileDown: async () => {
        let lead = leads[0]!;
        for (const toStage of ["automated_marketing_qualification", "inquiry", "automated_marketing_qualification"]) {
          lead = await old.app.services.leads.move(admin, { leadId: lead.id, toStage, expectedVersion: lead.version }, new Date());
        }
        await old.app.services.leads.move(admin, { leadId: leads[1]!.id, toStage: "automated_marketing_qualification", expectedVersion: 1 }, new Date());
        // Down for a couple of seconds, as a real restart is.
        await new Promise((r) => setTimeout(r, Math.max(0, 2_000 - (Date.now() - downAt))));
      },
      beforeListen: (app) => {
        syncs = measureSyncs(app);
        upAt = Date.now();
      },
    });
    const after = await lastSeq();
    expect(after).toBe(before + 4);

    await until(() => clients.every((c) => c.settled && c.seq === after), 60_000);
    const syncCalls = syncs.calls;

    const truth = placements((await readWholeBoard(server.app.services.boards, admin, clients[0]!.boardId!)).leads);
    for (const c of clients) {
      // Nothing missed, nothing reloaded: the four events replayed in order, on top of the board it had.
      const sinceRestart = c.applied.filter((a) => a.seq > before);
      expect(sinceRestart.map(({ seq, via }) => ({ seq, via }))).toEqual([1, 2, 3, 4].map((k) => ({ seq: before + k, via: "replay" })));
      expect(c.snapshots).toHaveLength(1);
      expect(c.syncErrors).toEqual([]);
      expect(c.driver.fatal).toBeNull();
      expect(placements(c.cards.values())).toEqual(truth);
    }

    // Spread, on the driver's own schedule (immune to a busy test process delaying timers):
    // each client's first retry after the restart is uniform over its jitter window...
    const firstRetries = clients.map((c) => c.retries.find((r) => r.at >= downAt)!);
    expect(firstRetries.every((r) => r.cause === "disconnect" && r.attempt === 0)).toBe(true);
    const firstDelays = firstRetries.map((r) => r.delayMs);
    expect(densestWindow(firstDelays, 100)).toBeLessThanOrEqual(0.2);
    const byDelay = [...firstDelays].sort((a, b) => a - b);
    expect(byDelay[Math.floor(clientCount * 0.9)]! - byDelay[Math.floor(clientCount * 0.1)]!).toBeGreaterThanOrEqual(400);
    // ...later ones back off within their growing windows...
    const later = clients.flatMap((c) => c.retries.filter((r) => r.at >= downAt));
    for (const r of later) {
      expect(r.delayMs).toBeGreaterThanOrEqual(defaultBackoff.floorMs);
      expect(r.delayMs).toBeLessThanOrEqual(backoffCeiling(r.attempt));
    }
    expect(Math.max(...later.map((r) => r.attempt))).toBeGreaterThanOrEqual(2);
    // ...so the successful attempts were due spread out, not in one burst (loose: a loaded
    // machine delays timers and bunches some up).
    const comeback = clients.map((c) => c.retries.at(-1)!.at);
    expect(densestWindow(comeback, 100)).toBeLessThanOrEqual(0.5);

    // The server never ran more syncs at once than its admission limit, and each client synced once.
    expect(syncs.peak).toBeLessThanOrEqual(defaultMaxConcurrentSyncs);
    expect(syncCalls).toBe(clientCount);
  }, 120_000);

  it("a burst of simultaneous resyncs queues behind the admission limit and every one is answered", async () => {
    // Each sync made slow enough to overlap (PGlite answers within one tick otherwise).
    const syncs = measureSyncs(server.app, 5);
    const boardId = clients[0]!.boardId!;
    const seq = clients[0]!.seq;
    const burst = clients.slice(0, 300).map((c) =>
      (c.socket.timeout(60_000).emitWithAck as (e: string, p: unknown) => Promise<{ ok: boolean }>)("board:resync", {
        boardId,
        sinceSeq: seq - 2,
      }),
    );
    const answers = await Promise.all(burst);
    expect(answers.every((a) => a.ok)).toBe(true);
    expect(syncs.calls).toBe(300);
    expect(syncs.peak).toBe(defaultMaxConcurrentSyncs);
  }, 60_000);
});
