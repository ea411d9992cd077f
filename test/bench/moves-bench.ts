/**
 * Moves per second through `lead:move` with 8 concurrent movers, against `pgbench -N` with
 * 8 clients on the same PostgreSQL server in the same run: `npx tsx test/bench/moves-bench.ts`.
 *
 * The server runs in its own process on BENCH_DATABASE_URL (demo data is loaded when the
 * database is empty); this process holds the movers. Each mover owns its own leads and moves
 * them back and forth between two ungated columns of the same board, sending the next move as
 * soon as the last is acknowledged, so every move is a real one (new rank, history row, board
 * event with the next seq, NOTIFY) and none conflicts on a version.
 *
 * pgbench runs on a database of its own (`<database>_pgbench`, scale 10, made and dropped
 * here) with `-N` (the "simple update" script: one account update, one read, one history
 * insert per transaction) and the same number of clients.
 *
 *   BENCH_DATABASE_URL   required: the PostgreSQL server (the bench skips without it)
 *   BENCH_MOVERS         concurrent movers and pgbench clients (default 8)
 *   BENCH_SECONDS        length of each phase (default 10)
 *   BENCH_SERVER_NODE_ARGS  node options for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   PGBENCH              the pgbench binary (default: the newest /usr/lib/postgresql/N/bin/pgbench)
 *
 * Goal (reported, not asserted): moves/s >= 0.6 of pgbench's transactions/s.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { promisify } from "node:util";
import postgres from "postgres";
import { io as connect, type Socket } from "socket.io-client";
import type { BoardSnapshot, LeadCard } from "../../shared/board.ts";
import type { Ack } from "../../shared/errors.ts";
import { demoPassword } from "../../server/services/demo-seed.ts";
import { startServerProcess } from "../support/server-process.ts";
import { login } from "../support/server.ts";
import { percentile, ratio, report, type BenchRow } from "./stats.ts";

const run = promisify(execFile);
const databaseUrl = process.env.BENCH_DATABASE_URL;
const movers = Number(process.env.BENCH_MOVERS ?? 8);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);

function pgbenchPath(): string {
  if (process.env.PGBENCH) return process.env.PGBENCH;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(`${root}/${v}/bin/pgbench`)) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error("pgbench not found: install postgresql-contrib / postgresql, or set PGBENCH");
  return `${root}/${newest}/bin/pgbench`;
}

/** `pgbench -N` transactions per second (without the initial connection time). */
async function pgbenchTps(url: string): Promise<{ tps: number; latencyMs: number }> {
  const target = new URL(url);
  const name = `${target.pathname.slice(1) || "postgres"}_pgbench`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${name}"`);
  await admin.unsafe(`create database "${name}"`);
  target.pathname = `/${name}`;
  try {
    const bin = pgbenchPath();
    await run(bin, ["-i", "-q", "-s", "10", target.toString()]);
    const { stdout } = await run(bin, ["-N", "-n", "-c", String(movers), "-j", "2", "-T", String(seconds), target.toString()]);
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1]);
    const latencyMs = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1]);
    if (!Number.isFinite(tps)) throw new Error(`cannot read pgbench's output:\n${stdout}`);
    return { tps, latencyMs };
  } finally {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  }
}

function open(url: string, cookie: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(url, { transports: ["websocket"], forceNew: true, reconnection: false, extraHeaders: { cookie } });
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

/** Every lead of the two ungated first columns, paging past the snapshot's first page. */
async function movableLeads(socket: Socket, snapshot: BoardSnapshot): Promise<LeadCard[]> {
  const columns = ["inquiry", "automated_marketing_qualification"];
  const leads: LeadCard[] = [];
  for (const stage of columns) {
    let cards = snapshot.leads.filter((l) => l.stage === stage);
    leads.push(...cards);
    let complete = snapshot.columns[stage]?.complete ?? true;
    while (!complete && cards.length > 0) {
      const last = cards.at(-1)!;
      const ack = (await socket.timeout(30_000).emitWithAck("board:page", {
        boardId: snapshot.boardId,
        stage,
        after: { rank: last.rank, id: last.id },
        limit: 500,
      })) as Ack<{ cards: LeadCard[]; complete: boolean }>;
      if (!ack.ok) throw new Error(`board:page: ${ack.error.message}`);
      cards = ack.data.cards;
      complete = ack.data.complete;
      leads.push(...cards);
    }
  }
  return leads;
}

interface Moved {
  rate: number;
  moves: number;
  refused: number;
  refusals: Record<string, number>;
  latencies: number[];
}

async function movesPerSecond(url: string, cookie: string): Promise<Moved> {
  const sockets = await Promise.all(Array.from({ length: movers }, () => open(url, cookie)));
  try {
    const join = (await sockets[0]!.timeout(30_000).emitWithAck("board:join", {})) as Ack<BoardSnapshot>;
    if (!join.ok) throw new Error(`board:join: ${join.error.message}`);
    // Entering the second column needs a contact or an account (a lead without one stays in the first).
    const leads = (await movableLeads(sockets[0]!, join.data)).filter((l) => l.scorable);
    if (leads.length < movers) throw new Error(`only ${leads.length} movable leads for ${movers} movers`);
    const refusals = new Map<string, number>();
    const owned = sockets.map((_, m) => leads.filter((_, i) => i % movers === m));
    const move = async (socket: Socket, lead: LeadCard): Promise<LeadCard | undefined> => {
      const toStage = lead.stage === "inquiry" ? "automated_marketing_qualification" : "inquiry";
      const ack = (await socket.timeout(30_000).emitWithAck("lead:move", { leadId: lead.id, toStage, expectedVersion: lead.version })) as Ack<LeadCard>;
      if (ack.ok) return ack.data;
      refusals.set(ack.error.code, (refusals.get(ack.error.code) ?? 0) + 1);
      return undefined;
    };
    // Warm-up: one move per mover (compiles the paths, fills the caches), not counted.
    for (const [m, socket] of sockets.entries()) owned[m]![0] = (await move(socket, owned[m]![0]!)) ?? owned[m]![0]!;

    let moves = 0;
    let refused = 0;
    const latencies: number[] = [];
    const started = performance.now();
    const end = started + seconds * 1000;
    await Promise.all(
      sockets.map(async (socket, m) => {
        const mine = owned[m]!;
        for (let k = 0; performance.now() < end; k = (k + 1) % mine.length) {
          const t0 = performance.now();
          const moved = await move(socket, mine[k]!);
          latencies.push(performance.now() - t0);
          if (moved) {
            mine[k] = moved;
            moves++;
          } else refused++;
        }
      }),
    );
    const rate = moves / ((performance.now() - started) / 1000);
    return { rate, moves, refused, refusals: Object.fromEntries(refusals), latencies: latencies.sort((a, b) => a - b) };
  } finally {
    for (const s of sockets) s.disconnect();
  }
}

async function main(): Promise<void> {
  if (!databaseUrl) {
    console.log("moves-bench: skipped (needs a real PostgreSQL server in BENCH_DATABASE_URL to compare with pgbench)");
    return;
  }
  const server = startServerProcess({
    DATABASE_URL: databaseUrl,
    SEED_DEMO: "1",
    SIMULATE: "0",
    LOG_LEVEL: "info",
    // Eight movers as fast as the server answers: far above a person's rate, so lift the per-connection limit.
    SOCKET_COMMANDS_PER_SECOND: "10000",
    SOCKET_COMMAND_BURST: "10000",
  });
  let moved: Moved;
  try {
    const url = await server.ready;
    const cookie = await login(url, "manager@demo.example", demoPassword);
    moved = await movesPerSecond(url, cookie);
  } finally {
    await server.stop();
  }
  // pgbench after the server has stopped, so neither competes with the other for the 2 cores.
  const bench = await pgbenchTps(databaseUrl);
  const share = moved.rate / bench.tps;
  const rows: BenchRow[] = [
    {
      what: `moves/s through lead:move, ${movers} movers (PostgreSQL)`,
      figure: moved.rate.toFixed(0),
      baseline: `${bench.tps.toFixed(0)} tps (pgbench -N, ${movers} clients)`,
      ratio: ratio(moved.rate, bench.tps),
      goal: ">= 0.6 of baseline",
      pass: share >= 0.6,
    },
  ];
  report("moves", rows, {
    movers,
    seconds,
    moves: moved.moves,
    refused: moved.refused,
    refusals: moved.refusals,
    moveAckP50Ms: percentile(moved.latencies, 50),
    moveAckP99Ms: percentile(moved.latencies, 99),
    pgbenchTps: bench.tps,
    pgbenchLatencyMs: bench.latencyMs,
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
