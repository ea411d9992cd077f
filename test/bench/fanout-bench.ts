/**
 * Board fan-out against a raw Socket.IO broadcast of the same payload to the same clients,
 * both measured in this run. Processes on loopback: the server under test, the baseline
 * (raw-broadcast-server.ts), BENCH_LOADGEN_PROCS load generators holding the viewers
 * (viewer-child.ts), and this one, which sends the moves and the baseline's broadcasts.
 *
 * - Latency: moves at BENCH_RATE/s through `lead:move`; time from sending each move to its
 *   event's receipt at the last of the viewers (the raw baseline: from sending the broadcast).
 *   The details split it: the move's own time to its ack, and the spread from the first
 *   viewer's receipt to the last (the fan-out itself).
 * - Throughput: BENCH_CONCURRENCY moves in flight, each sent when one is acknowledged
 *   (baseline: as many broadcasts with acks); `board:event` frames received by all viewers
 *   per second over a window that starts after a 1 s warm-up. Both count frames the same
 *   way. (Broadcasts that reach the baseline together leave as one write per socket, which
 *   separate commits do not: Engine.IO batches packets queued while a write is pending.)
 *
 * CPU use of each process over the windows is in the details, to show whether the load
 * generators (rather than the server) were the limit.
 *
 *   BENCH_CLIENTS (default 1000)          connected viewers (board:join with the default view)
 *   BENCH_SECONDS (default 5)             length of each measured phase
 *   BENCH_RATE (default 20)               moves per second in the latency phase
 *   BENCH_LOADGEN_PROCS (default 4)       load-generator processes the viewers are spread over
 *   BENCH_CONCURRENCY (default 8)         moves (baseline: broadcasts) in flight in the throughput phase
 *   BENCH_DATABASE_URL                    run the server on PostgreSQL instead of embedded PGlite
 *   BENCH_PROFILE                         a directory: write the server's CPU profile of the joins and the
 *                                         board phases there (fanout-server.cpuprofile, through the inspector)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Socket } from "socket.io-client";
import type { BoardEvent } from "../../shared/board.ts";
import { demoPassword } from "../../server/services/demo-seed.ts";
import { startServerProcess } from "../support/server-process.ts";
import { login } from "../support/server.ts";
import { BoardMover, openSocket, peekBoard } from "./board-mover.ts";
import { ms, percentile, ratio, report, type BenchRow } from "./stats.ts";
import { Inspector, inspectOption } from "./inspector.ts";
import { cpuSeconds, now, sleep, ViewerPool, type Delivery } from "./viewer-pool.ts";

const clients = Number(process.env.BENCH_CLIENTS ?? 1000);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rate = Number(process.env.BENCH_RATE ?? 20);
const loadgens = Number(process.env.BENCH_LOADGEN_PROCS ?? 4);
const databaseUrl = process.env.BENCH_DATABASE_URL;
/** Viewers join with the default view (the rooms every viewer is in); a one-card first page keeps 1,000 joins quick. */
const viewerJoin = { pageSize: 1 };
const profileDir = process.env.BENCH_PROFILE;
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);

function startRawServer(): Promise<{ url: string; pid: number | undefined; stop: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "raw-broadcast-server.ts")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`raw broadcast server exited with ${code}`)));
    child.stdout.on("data", (chunk: Buffer) => {
      const match = chunk.toString().match(/serving (http:\/\/[\d.]+:\d+)/);
      if (match) resolve({ url: match[1]!, pid: child.pid, stop: () => child.kill("SIGTERM") });
    });
  });
}

/** One move's event as a viewer of the board receives it: the raw baseline sends the same payload. */
async function sampleEvent(url: string, cookie: string, mover: BoardMover): Promise<BoardEvent> {
  const witness = await openSocket(url, cookie);
  try {
    await witness.timeout(60_000).emitWithAck("board:join", {});
    const event = new Promise<BoardEvent>((resolve) =>
      witness.on("board:event", (e: BoardEvent) => {
        if (e.type === "lead.moved") resolve(e);
      }),
    );
    if (!(await mover.move(0))) throw new Error("the sample move was refused");
    return await event;
  } finally {
    witness.disconnect();
  }
}

/** CPU use (share of one core) of the processes over a window. */
function cpuMeter(pids: Record<string, number[]>) {
  const read = () => Object.fromEntries(Object.entries(pids).map(([k, ps]) => [k, ps.reduce((s, p) => s + (cpuSeconds(p) ?? 0), 0)]));
  const mainCpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const start = { at: now(), cpu: read(), main: mainCpu() };
  return () => {
    const secs = (now() - start.at) / 1000;
    const end = read();
    const share = Object.fromEntries(Object.entries(end).map(([k, v]) => [k, `${(((v - start.cpu[k]!) / secs) * 100).toFixed(0)}%`]));
    // Shares of one core; the load generators' is their sum (each is one process of BENCH_LOADGEN_PROCS).
    return { ...share, senders: `${(((mainCpu() - start.main) / secs) * 100).toFixed(0)}%` };
  };
}

/** Deliveries per second at the viewers while `load` runs, over a window after a 1 s warm-up. */
async function throughput(pool: ViewerPool, load: (until: () => boolean) => Promise<number>, pids: Record<string, number[]>) {
  let stop = false;
  const running = load(() => stop);
  await sleep(1000);
  const d0 = await pool.delivered();
  const t0 = now();
  const cpu = cpuMeter(pids);
  await sleep(seconds * 1000);
  const d1 = await pool.delivered();
  const secs = (now() - t0) / 1000;
  const cpuShare = cpu();
  stop = true;
  const sent = await running;
  return { perSecond: (d1 - d0) / secs, sentPerSecond: sent / (secs + 1), cpu: cpuShare };
}

const summary = (d: Delivery) => ({
  measured: d.atAll.length,
  incomplete: d.incomplete,
  p50: percentile(d.atAll, 50),
  p99: percentile(d.atAll, 99),
  // First to last viewer: what the fan-out itself takes, apart from the move before it.
  spreadP50: percentile(d.spread, 50),
  spreadP99: percentile(d.spread, 99),
});

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), "lpb-bench-"));
  const server = startServerProcess({
    SEED_DEMO: "1",
    SIMULATE: "0",
    LOG_LEVEL: "info",
    ...(profileDir ? { NODE_OPTIONS: inspectOption } : {}),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir }),
  });
  const pool = ViewerPool.start(loadgens);
  let raw: Awaited<ReturnType<typeof startRawServer>> | undefined;
  try {
    raw = await startRawServer();
    const url = await server.ready;
    const cookie = await login(url, "manager@demo.example", demoPassword);
    console.log(`server ${url} (${databaseUrl ? "postgres" : "pglite"}), raw baseline ${raw.url}; ${clients} viewers over ${loadgens} load generators, ${seconds}s phases`);
    const snapshot = await peekBoard(url, cookie);

    // ------------------------------------------------------------ board under test
    const inspector = profileDir ? await Inspector.attach(server) : undefined;
    await inspector?.startProfile();
    const joinStart = now();
    await pool.open(url, clients, { cookie, join: viewerJoin });
    const joinSeconds = (now() - joinStart) / 1000;
    console.log(`${clients} viewers connected and joined in ${joinSeconds.toFixed(1)} s`);
    const mover = await BoardMover.open(url, cookie, snapshot);
    const sample = await sampleEvent(url, cookie, mover);
    await mover.steady(rate, 1); // warm-up
    await sleep(500);
    await pool.record(true);
    const boardSteady = await mover.steady(rate, seconds);
    await sleep(1000);
    const board = ViewerPool.deliveries(boardSteady.sentAt, await pool.record(false), clients);
    const boardFlat = await throughput(pool, (until) => mover.flat(concurrency, until), { server: [server.child.pid!], loadgens: pool.pids });
    if (inspector) {
      await inspector.stopProfile(path.join(profileDir!, "fanout-server.cpuprofile"));
      inspector.close();
    }
    mover.close();
    await pool.closeViewers();

    // ------------------------------------------------------------ raw Socket.IO baseline, same payload
    await pool.open(raw.url, clients);
    const trigger: Socket = await openSocket(raw.url);
    const lead = "lead" in sample ? sample.lead : undefined;
    if (!lead) throw new Error("the sample event has no lead");
    // Versions far above the board's keep the baseline's keys apart; the payload stays the same size.
    let n = 0;
    const payload = () => ({ ...sample, lead: { ...lead, version: lead.version + 100_000 + n++ } });
    const rawSentAt = new Map<string, number>();
    await pool.record(true);
    const start = now();
    for (let i = 0; i < Math.round(rate * seconds); i++) {
      const due = start + (i * 1000) / rate;
      if (due > now()) await sleep(due - now());
      const p = payload();
      rawSentAt.set(`${p.lead.id}:${p.lead.version}`, now());
      trigger.emit("broadcast", p);
    }
    await sleep(1000);
    const rawLatency = ViewerPool.deliveries(rawSentAt, await pool.record(false), clients);
    const rawFlat = await throughput(
      pool,
      async (until) => {
        let sent = 0;
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            for (; !until(); sent++) await trigger.timeout(60_000).emitWithAck("broadcast", payload());
          }),
        );
        return sent;
      },
      { server: [raw.pid!], loadgens: pool.pids },
    );
    trigger.disconnect();
    await pool.closeViewers();

    // ------------------------------------------------------------ report
    const b = summary(board);
    const r = summary(rawLatency);
    const rows: BenchRow[] = [
      {
        what: `board events delivered/s to ${clients} clients`,
        figure: boardFlat.perSecond.toFixed(0),
        baseline: `${rawFlat.perSecond.toFixed(0)} (raw broadcast)`,
        ratio: ratio(boardFlat.perSecond, rawFlat.perSecond),
        goal: ">= 0.5 of baseline",
        pass: boardFlat.perSecond / rawFlat.perSecond >= 0.5,
      },
      {
        what: `move -> delivered at all ${clients} clients, p50 @${rate}/s`,
        figure: ms(b.p50),
        baseline: `${ms(r.p50)} (raw)`,
        ratio: ratio(b.p50, r.p50),
        goal: "—",
        pass: null,
      },
      {
        what: `move -> delivered at all ${clients} clients, p99 @${rate}/s`,
        figure: ms(b.p99),
        baseline: `${ms(r.p99)} (raw)`,
        ratio: ratio(b.p99, r.p99),
        goal: "<= 50 ms",
        pass: b.p99 <= 50 && b.incomplete === 0,
      },
    ];
    const payloadBytes = (x: unknown) => Buffer.byteLength(JSON.stringify(x));
    report("fanout", rows, {
      database: databaseUrl ? "postgres" : "pglite",
      clients,
      loadgenProcesses: loadgens,
      concurrency,
      joinSeconds,
      seconds,
      rate,
      payloadBytes: { board: payloadBytes(sample), raw: payloadBytes(payload()) },
      latency: {
        board: { ...b, refused: boardSteady.refused, moveAckP50: percentile(boardSteady.acks, 50), moveAckP99: percentile(boardSteady.acks, 99) },
        raw: r,
      },
      throughput: {
        board: { deliveredPerSecond: boardFlat.perSecond, movesPerSecond: boardFlat.sentPerSecond, cpu: boardFlat.cpu },
        raw: { deliveredPerSecond: rawFlat.perSecond, broadcastsPerSecond: rawFlat.sentPerSecond, cpu: rawFlat.cpu },
      },
    });
  } finally {
    pool.stop();
    raw?.stop();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
