/**
 * Move on node A → delivered at every viewer on node B, against the same on one node
 * (moves and viewers both on B), measured in the same run. Two server processes share one
 * PostgreSQL database with SOCKET_ADAPTER=postgres, so B learns of A's moves by following
 * the event log (NOTIFY wake-up, then a read). The viewers live in BENCH_LOADGEN_PROCS
 * load generators; the two paths take turns (B, A, B, A, ...) so that the machine's other
 * load falls on both alike. PostgreSQL only: without BENCH_DATABASE_URL it says so and skips.
 *
 *   BENCH_DATABASE_URL                PostgreSQL database both nodes use (required)
 *   BENCH_CLIENTS (default 1000)      viewers, all connected to node B
 *   BENCH_SECONDS (default 5)         length of each turn
 *   BENCH_ROUNDS (default 2)          turns per path
 *   BENCH_RATE (default 20)           moves per second
 *   BENCH_LOADGEN_PROCS (default 4)   load-generator processes the viewers are spread over
 *   BENCH_PROFILE                     a directory: write node B's CPU profile of each cross-node turn
 *                                     there (cross-node-b-<turn>.cpuprofile, through the inspector)
 */
import { demoPassword } from "../../server/services/demo-seed.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { login } from "../support/server.ts";
import { BoardMover, peekBoard } from "./board-mover.ts";
import { Inspector, inspectOption } from "./inspector.ts";
import { ms, percentile, ratio, report } from "./stats.ts";
import { sleep, ViewerPool } from "./viewer-pool.ts";

const clients = Number(process.env.BENCH_CLIENTS ?? 1000);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const rate = Number(process.env.BENCH_RATE ?? 20);
const loadgens = Number(process.env.BENCH_LOADGEN_PROCS ?? 4);
const databaseUrl = process.env.BENCH_DATABASE_URL;
const profileDir = process.env.BENCH_PROFILE;
/** Viewers join with the default view (the rooms every viewer is in); a one-card first page keeps 1,000 joins quick. */
const viewerJoin = { pageSize: 1 };
const what = `move on node A -> delivered at ${clients} clients on node B, p99 @${rate}/s`;

function startNode(seed: boolean, inspect = false): ServerProcess {
  return startServerProcess({
    ...(inspect ? { NODE_OPTIONS: inspectOption } : {}),
    DATABASE_URL: databaseUrl!,
    SOCKET_ADAPTER: "postgres",
    SEED_DEMO: seed ? "1" : "0",
    SIMULATE: "0",
    LOG_LEVEL: "info",
  });
}

async function main() {
  if (!databaseUrl) {
    console.log("cross-node bench skipped: it needs PostgreSQL (set BENCH_DATABASE_URL); embedded PGlite runs one node only");
    report("cross-node", [{ what, figure: "skipped (no BENCH_DATABASE_URL)", baseline: "—", ratio: "—", goal: "<= 2x of baseline and <= 100 ms", pass: null }], {
      skipped: "needs BENCH_DATABASE_URL",
    });
    return;
  }
  // A first: it migrates and seeds an empty database before B starts on it.
  const nodeA = startNode(true);
  const nodes: ServerProcess[] = [nodeA];
  const pool = ViewerPool.start(loadgens);
  try {
    const urlA = await nodeA.ready;
    const nodeB = startNode(false, profileDir !== undefined);
    nodes.push(nodeB);
    const urlB = await nodeB.ready;
    const cookie = await login(urlB, "manager@demo.example", demoPassword);
    console.log(`node A ${urlA}, node B ${urlB} (postgres); ${clients} viewers on B over ${loadgens} load generators`);

    await pool.open(urlB, clients, { cookie, join: viewerJoin });
    const inspector = profileDir ? await Inspector.attach(nodeB) : undefined;
    const onB = await BoardMover.open(urlB, cookie, await peekBoard(urlB, cookie));
    const onA = await onB.via(urlA, cookie);
    // Warm-up on both paths (connections, prepared statements, the follower's first reads).
    await onB.steady(rate, 1);
    await onA.steady(rate, 1);
    await sleep(500);

    const latencies = { sameNode: [] as number[], crossNode: [] as number[] };
    const acks = { sameNode: [] as number[], crossNode: [] as number[] };
    const missed = { sameNode: 0, crossNode: 0 };
    const refused = { sameNode: 0, crossNode: 0 };
    for (let r = 0; r < rounds; r++) {
      for (const [path, mover] of [["sameNode", onB], ["crossNode", onA]] as const) {
        const profiled = inspector && path === "crossNode" ? inspector : undefined;
        await profiled?.startProfile();
        await pool.record(true);
        const run = await mover.steady(rate, seconds);
        await sleep(1000);
        await profiled?.stopProfile(`${profileDir}/cross-node-b-${r}.cpuprofile`);
        const d = ViewerPool.deliveries(run.sentAt, await pool.record(false), clients);
        latencies[path].push(...d.atAll);
        acks[path].push(...run.acks);
        missed[path] += d.incomplete;
        refused[path] += run.refused;
      }
    }
    inspector?.close();
    onA.close();
    onB.close();
    await pool.closeViewers();

    const byValue = (a: number, b: number) => a - b;
    const same = latencies.sameNode.sort(byValue);
    const cross = latencies.crossNode.sort(byValue);
    // The move's own time (sent -> acknowledged), to tell the write path from the delivery path.
    const ackP50 = (xs: number[]) => percentile(xs.sort(byValue), 50);
    const p99 = percentile(cross, 99);
    const base = percentile(same, 99);
    report(
      "cross-node",
      [
        {
          what,
          figure: ms(p99),
          baseline: `${ms(base)} (one node)`,
          ratio: ratio(p99, base),
          goal: "<= 2x of baseline and <= 100 ms",
          pass: p99 <= 2 * base && p99 <= 100 && missed.crossNode === 0,
        },
      ],
      {
        database: "postgres",
        clients,
        rate,
        secondsPerTurn: seconds,
        rounds,
        crossNode: { measured: cross.length, p50: percentile(cross, 50), p99, missed: missed.crossNode, refused: refused.crossNode, moveAckP50: ackP50(acks.crossNode) },
        sameNode: { measured: same.length, p50: percentile(same, 50), p99: base, missed: missed.sameNode, refused: refused.sameNode, moveAckP50: ackP50(acks.sameNode) },
      },
    );
  } finally {
    pool.stop();
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
