/**
 * `npm run bench`: board fan-out measured against a raw Socket.IO broadcast in the same run.
 * The server under test and the baseline server each run in their own process; this
 * process is the load generator. Prints a table and writes the figures as JSON.
 *
 *   BENCH_CLIENTS (default 200)   connected viewers
 *   BENCH_SECONDS (default 5)     length of each phase
 *   BENCH_RATE (default 20)       moves per second in the latency phase
 *   BENCH_DATABASE_URL            run the server on PostgreSQL instead of embedded PGlite
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { io as connect, type Socket } from "socket.io-client";
import type { BoardEvent, BoardSnapshot, LeadCard } from "../../shared/board.ts";
import type { Ack } from "../../shared/errors.ts";
import { demoPassword } from "../../server/services/demo-seed.ts";
import { startServerProcess } from "../support/server-process.ts";
import { login } from "../support/server.ts";
import { percentile, printTable, type BenchRow } from "./stats.ts";

const clients = Number(process.env.BENCH_CLIENTS ?? 200);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rate = Number(process.env.BENCH_RATE ?? 20);
const databaseUrl = process.env.BENCH_DATABASE_URL;

type AnySocket = Socket;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(url: string, cookie?: string): Promise<AnySocket> {
  return new Promise((resolve, reject) => {
    const s = connect(url, { transports: ["websocket"], forceNew: true, reconnection: false, extraHeaders: cookie ? { cookie } : {} });
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

async function openMany(url: string, count: number, cookie?: string): Promise<AnySocket[]> {
  const sockets: AnySocket[] = [];
  for (let i = 0; i < count; i += 50) {
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => open(url, cookie)))));
  }
  return sockets;
}

function startRawServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "raw-broadcast-server.ts")], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve) => {
    child.stdout.on("data", (chunk: Buffer) => {
      const match = chunk.toString().match(/serving (http:\/\/[\d.]+:\d+)/);
      if (match) resolve({ url: match[1]!, stop: () => child.kill("SIGTERM") });
    });
  });
}

/** Latency of each (event, viewer) delivery, and of the last viewer per event. */
function latencyRecorder(viewers: AnySocket[], keyOf: (payload: unknown) => string | undefined) {
  const sentAt = new Map<string, number>();
  const received = new Map<string, number>();
  const perDelivery: number[] = [];
  const perEventAll: number[] = [];
  for (const v of viewers) {
    v.on("board:event", (payload: unknown) => {
      const key = keyOf(payload);
      const t0 = key ? sentAt.get(key) : undefined;
      if (t0 === undefined || !key) return;
      const dt = performance.now() - t0;
      perDelivery.push(dt);
      const n = (received.get(key) ?? 0) + 1;
      received.set(key, n);
      if (n === viewers.length) perEventAll.push(dt);
    });
  }
  return { sentAt, perDelivery, perEventAll };
}

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), "lpb-bench-"));
  const server = startServerProcess({
    SEED_DEMO: "1",
    SIMULATE: "0",
    LOG_LEVEL: "info",
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir }),
  });
  const raw = await startRawServer();
  try {
    const url = await server.ready;
    const cookie = await login(url, "manager@demo.example", demoPassword);
    console.log(`server ${url} (${databaseUrl ? "postgres" : "pglite"}), raw baseline ${raw.url}; ${clients} viewers, ${seconds}s phases`);

    // ------------------------------------------------------------ board under test
    const viewers = await openMany(url, clients, cookie);
    const joins = await Promise.all(
      viewers.map((v) => v.timeout(30_000).emitWithAck("board:join", {}) as Promise<Ack<BoardSnapshot>>),
    );
    const snapshot = joins[0]!.ok ? joins[0]!.data : undefined;
    if (!snapshot) throw new Error("join failed");
    const movable = snapshot.leads.filter((l) => l.stage === "automated_marketing_qualification" || l.stage === "inquiry").filter((l) => l.scorable);
    const versions = new Map(movable.map((l) => [l.id, l]));
    const mover = await open(url, cookie);
    let payloadSize = 0;

    const move = async (lead: LeadCard): Promise<LeadCard | undefined> => {
      const toStage = lead.stage === "inquiry" ? "automated_marketing_qualification" : "inquiry";
      const ack = (await mover.timeout(30_000).emitWithAck("lead:move", { leadId: lead.id, toStage, expectedVersion: lead.version })) as Ack<LeadCard>;
      if (!ack.ok) return undefined;
      versions.set(lead.id, ack.data);
      return ack.data;
    };

    // Latency at a steady rate: time from sending the move to its event at each viewer.
    const board = latencyRecorder(viewers, (p) => {
      const e = p as BoardEvent;
      payloadSize ||= JSON.stringify(e).length;
      return "lead" in e ? `${e.lead.id}:${e.lead.version}` : undefined;
    });
    const latencyEnd = Date.now() + seconds * 1000;
    let i = 0;
    while (Date.now() < latencyEnd) {
      const lead = versions.get(movable[i++ % movable.length]!.id)!;
      board.sentAt.set(`${lead.id}:${lead.version + 1}`, performance.now());
      void move(lead);
      await sleep(1000 / rate);
    }
    await sleep(1000);

    // Throughput: 8 concurrent movers as fast as the server acknowledges.
    let delivered = 0;
    for (const v of viewers) v.on("board:event", () => delivered++);
    const throughputEnd = Date.now() + seconds * 1000;
    const startedAt = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let k = w; Date.now() < throughputEnd; k += 8) await move(versions.get(movable[k % movable.length]!.id)!);
      }),
    );
    await sleep(500);
    const boardRate = delivered / ((performance.now() - startedAt) / 1000);
    for (const v of [...viewers, mover]) v.disconnect();

    // ------------------------------------------------------------ raw Socket.IO baseline
    const rawViewers = await openMany(raw.url, clients);
    const trigger = await open(raw.url);
    const payload = { ...snapshot.leads[0], padding: "" };
    const rawLatency = latencyRecorder(rawViewers, (p) => (p as { key?: string }).key);
    const rawEnd = Date.now() + seconds * 1000;
    let n = 0;
    while (Date.now() < rawEnd) {
      const key = `k${n++}`;
      rawLatency.sentAt.set(key, performance.now());
      trigger.emit("broadcast", { ...payload, key });
      await sleep(1000 / rate);
    }
    await sleep(1000);
    let rawDelivered = 0;
    for (const v of rawViewers) v.on("board:event", () => rawDelivered++);
    const rawThroughputEnd = Date.now() + seconds * 1000;
    const rawStarted = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (Date.now() < rawThroughputEnd) await trigger.timeout(30_000).emitWithAck("broadcast", { ...payload, key: "t" });
      }),
    );
    await sleep(500);
    const rawRate = rawDelivered / ((performance.now() - rawStarted) / 1000);
    for (const v of [...rawViewers, trigger]) v.disconnect();

    // ------------------------------------------------------------ report
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const all = sorted(board.perEventAll);
    const rawAll = sorted(rawLatency.perEventAll);
    const p99 = percentile(all, 99);
    const rows: BenchRow[] = [
      {
        what: `board events delivered/s to ${clients} clients`,
        figure: boardRate.toFixed(0),
        baseline: `${rawRate.toFixed(0)} (raw broadcast)`,
        ratio: (boardRate / rawRate).toFixed(2),
        goal: ">= 0.5 of baseline",
        pass: boardRate / rawRate >= 0.5,
      },
      {
        what: `move -> at all ${clients} clients, p50 @${rate}/s`,
        figure: `${percentile(all, 50).toFixed(1)} ms`,
        baseline: `${percentile(rawAll, 50).toFixed(1)} ms (raw)`,
        ratio: (percentile(all, 50) / percentile(rawAll, 50)).toFixed(2),
        goal: "—",
        pass: null,
      },
      {
        what: `move -> at all ${clients} clients, p99 @${rate}/s`,
        figure: `${p99.toFixed(1)} ms`,
        baseline: `${percentile(rawAll, 99).toFixed(1)} ms (raw)`,
        ratio: (p99 / percentile(rawAll, 99)).toFixed(2),
        goal: "<= 50 ms",
        pass: p99 <= 50,
      },
    ];
    printTable(rows);
    console.log(`(${all.length} events measured at all clients; event payload ${payloadSize} bytes)`);
    const out = path.join(process.cwd(), "bench-results.json");
    writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), clients, seconds, rate, database: databaseUrl ? "postgres" : "pglite", rows }, null, 2));
    console.log(`results written to ${out}`);
  } finally {
    raw.stop();
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
