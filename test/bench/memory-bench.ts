/**
 * Memory per connected client: (server heap used with N connected viewers that joined the
 * board − heap used with none) / N, each read after a full garbage collection. The server
 * runs with `--inspect=127.0.0.1:0` in its NODE_OPTIONS; this process reads the heap
 * through the inspector protocol (HeapProfiler.collectGarbage, Runtime.getHeapUsage), so
 * the product has no hook for it. The viewers live in BENCH_LOADGEN_PROCS load generators.
 *
 * "0 clients" is measured after a warm-up (a few viewers connect, join and leave), so
 * that code and caches loaded once per process (not per client) count in the baseline.
 *
 *   BENCH_CLIENTS (default 1000)      connected viewers (board:join with the default view)
 *   BENCH_LOADGEN_PROCS (default 4)   load-generator processes the viewers are spread over
 *   BENCH_DATABASE_URL                run the server on PostgreSQL instead of embedded PGlite
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { demoPassword } from "../../server/services/demo-seed.ts";
import { startServerProcess } from "../support/server-process.ts";
import { login } from "../support/server.ts";
import { Inspector, inspectOption } from "./inspector.ts";
import { report } from "./stats.ts";
import { sleep, ViewerPool } from "./viewer-pool.ts";

const clients = Number(process.env.BENCH_CLIENTS ?? 1000);
const loadgens = Number(process.env.BENCH_LOADGEN_PROCS ?? 4);
const databaseUrl = process.env.BENCH_DATABASE_URL;
const warmupClients = 20;
const goalBytes = 20 * 1024;

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), "lpb-bench-"));
  const server = startServerProcess({
    SEED_DEMO: "1",
    SIMULATE: "0",
    LOG_LEVEL: "info",
    NODE_OPTIONS: inspectOption,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir }),
  });
  const pool = ViewerPool.start(loadgens);
  let inspector: Inspector | undefined;
  try {
    const url = await server.ready;
    inspector = await Inspector.attach(server);
    const cookie = await login(url, "manager@demo.example", demoPassword);
    console.log(`server ${url} (${databaseUrl ? "postgres" : "pglite"}); ${clients} viewers over ${loadgens} load generators`);

    // Warm-up: the first join loads code paths and per-board caches that every later client shares.
    await pool.open(url, warmupClients, { cookie, join: {} });
    await pool.closeViewers();
    await sleep(1000);
    const heapIdle = await inspector.heapUsedAfterGc();

    const joinStart = Date.now();
    await pool.open(url, clients, { cookie, join: {} });
    console.log(`${clients} viewers connected and joined in ${((Date.now() - joinStart) / 1000).toFixed(1)} s`);
    await sleep(1000);
    const heapConnected = await inspector.heapUsedAfterGc();

    await pool.closeViewers();
    await sleep(1000);
    const heapAfter = await inspector.heapUsedAfterGc();

    const perClient = (heapConnected - heapIdle) / clients;
    report(
      "memory",
      [
        {
          what: "memory per connected client",
          figure: `${(perClient / 1024).toFixed(1)} KB`,
          baseline: `heap at 0 clients: ${mb(heapIdle)}`,
          ratio: "—",
          goal: "<= 20 KB",
          pass: perClient <= goalBytes,
        },
      ],
      {
        database: databaseUrl ? "postgres" : "pglite",
        clients,
        heapUsedBytes: { idle: heapIdle, connected: heapConnected, afterDisconnect: heapAfter },
        perClientBytes: perClient,
      },
    );
  } finally {
    inspector?.close();
    pool.stop();
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
