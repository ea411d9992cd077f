/**
 * `board:join` and `board:page` on a big board, server time (the service, no socket):
 * - join: the snapshot with every column's total and its first page (50 cards), and its size;
 * - page: one `board:page` of 500 cards from the middle of the biggest column;
 * - rest: every remaining page of every column, 500 at a time, one after another (what a
 *   client loads in the background after the join).
 * PGlite, or PostgreSQL with BENCH_DATABASE_URL (an empty database the bench may fill).
 * Sizes: BENCH_SIZES (default "1000,10000,100000", filled in that order).
 * Run: npx tsx test/bench/board-join-bench.ts (or as part of `npm run bench`).
 * Goal (reported, not asserted): join p95 <= 150 ms at 100,000 leads.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import pino from "pino";
import { createApp } from "../../server/app.ts";
import { migrateEmbedded, migrateServer, openPglite, openPostgres, type Database } from "../../server/db/client.ts";
import { leads as leadsTable } from "../../drizzle/schema.ts";
import type { BoardSnapshot, PageCursor } from "../../shared/board.ts";
import { ranksAfter } from "../../shared/domain/ranks.ts";
import { percentile, report } from "./stats.ts";

const url = process.env.BENCH_DATABASE_URL;
const sizes = (process.env.BENCH_SIZES ?? "1000,10000,100000").split(",").map(Number);
const dir = mkdtempSync(path.join(tmpdir(), "lpb-join-"));
let database: Database;
if (url) {
  await migrateServer(url);
  database = await openPostgres(url);
} else {
  const embedded = await openPglite({ dataDir: dir });
  await migrateEmbedded(embedded);
  database = embedded;
}
const app = await createApp({ database, logger: pino({ level: "silent" }), scoring: { autoStart: false } });
const actor = { id: null, name: "Bench", kind: "system" as const, role: "admin" as const };
const boards = app.services.boards;
const board = await boards.resolveBoard(actor, {});
const stages = await app.services.processes.list(actor).then((list) => list.find((p) => p.isDefault)!.stages);
const viewer = { view: "all" as const, userId: null };

/** p50 and p95 of `runs` timed calls after 2 warm-ups. */
async function time(runs: number, work: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const started = performance.now();
    await work();
    if (i >= 2) times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

/** Loads every column to its end after the snapshot, 500 cards a page; returns the pages read. */
async function loadRest(snapshot: BoardSnapshot): Promise<number> {
  let pages = 0;
  for (const stage of snapshot.stages) {
    const first = snapshot.leads.filter((l) => l.stage === stage.key);
    let complete = snapshot.columns[stage.key]!.complete;
    let after: PageCursor | undefined = first.at(-1);
    while (!complete) {
      const page = await boards.page(actor, { boardId: board.id, stage: stage.key, limit: 500, ...(after ? { after } : {}) }, "all");
      pages++;
      complete = page.complete;
      const last = page.cards.at(-1);
      if (last) after = { rank: last.rank, id: last.id };
    }
  }
  return pages;
}

interface Row {
  leads: number;
  join: { p50: number; p95: number };
  bytes: number;
  page: { p50: number; p95: number };
  rest: number;
  restPages: number;
}

const rows: Row[] = [];
let inserted = 0;
for (const target of sizes) {
  const ranks = ranksAfter(null, target - inserted);
  for (let from = 0; from < ranks.length; from += 1000) {
    await database.db.insert(leadsTable).values(
      ranks.slice(from, from + 1000).map((rank, i) => ({
        topic: `Bench lead ${inserted + from + i}`,
        processId: board.processId,
        stageId: stages[(from + i) % stages.length]!.id,
        rank,
      })),
    );
  }
  inserted = target;
  // What autovacuum does soon after a bulk insert; without it counts read the heap.
  if (url) await database.db.execute(sql`vacuum analyze leads`);
  else await database.db.execute(sql`analyze leads`);

  const snapshot = await boards.snapshot(board.id, new Date(), viewer);
  const bytes = Buffer.byteLength(JSON.stringify(snapshot));
  const join = await time(10, () => boards.snapshot(board.id, new Date(), viewer));
  // A page from the middle of the first column: the keyset read costs the same at any depth.
  const column = stages[0]!.key;
  const middle = await boards.page(actor, { boardId: board.id, stage: column, limit: Math.max(1, Math.floor(target / stages.length / 2)) }, "all");
  const cursor = middle.cards.at(-1)!;
  const page = await time(10, () =>
    boards.page(actor, { boardId: board.id, stage: column, after: { rank: cursor.rank, id: cursor.id }, limit: 500 }, "all"),
  );
  const started = performance.now();
  const restPages = await loadRest(snapshot);
  rows.push({ leads: target, join, bytes, page, rest: performance.now() - started, restPages });
}

console.log(`board:join (first pages of 50) and board:page (500) on ${url ? "PostgreSQL" : "PGlite"}, server time, 10 runs after 2 warm-ups`);
console.table(
  rows.map((r) => ({
    "open leads": r.leads,
    "join p50 ms": r.join.p50.toFixed(0),
    "join p95 ms": r.join.p95.toFixed(0),
    "snapshot KB": (r.bytes / 1024).toFixed(0),
    "page p50 ms": r.page.p50.toFixed(0),
    "page p95 ms": r.page.p95.toFixed(0),
    "rest: pages": r.restPages,
    "rest: total ms": r.rest.toFixed(0),
  })),
);
const largest = rows.at(-1)!;
report(
  "board-join",
  [
    {
      what: `board:join with ${largest.leads.toLocaleString("en")} leads, server time p95 (p50)`,
      figure: `${largest.join.p95.toFixed(1)} ms (${largest.join.p50.toFixed(1)} ms)`,
      baseline: `${rows[0]!.join.p95.toFixed(1)} ms at ${rows[0]!.leads.toLocaleString("en")} leads`,
      ratio: (largest.join.p95 / rows[0]!.join.p95).toFixed(2),
      goal: "<= 150 ms",
      pass: largest.join.p95 <= 150,
    },
  ],
  { database: url ? "postgres" : "pglite", sizes: rows },
);
await app.close();
await database.close();
rmSync(dir, { recursive: true, force: true });
