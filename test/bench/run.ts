/**
 * `npm run bench`: every benchmark of the issue-7 table, one after another, each in its own
 * process (and each starting its own server process), then one table of all the rows and
 * `bench-results.json` with the figures and the machine they ran on.
 *
 *   npm run bench                      all benches on the embedded PGlite (those that need a
 *                                      real server say they skipped)
 *   BENCH_DATABASE_URL=postgres://… npm run bench
 *                                      on a PostgreSQL server: each bench gets a database of its
 *                                      own on it (created empty, dropped afterwards)
 *   npm run bench -- fanout moves      only the named benches
 *   BENCH_RESULTS=path                 where the JSON goes (default ./bench-results.json)
 *
 * Every bench also runs on its own: `npx tsx test/bench/<name>-bench.ts` (sizes in each
 * file's header). Goals are reported, never asserted: the exit code says only whether every
 * bench ran.
 */
import { spawn } from "node:child_process";
import { cpus, totalmem, tmpdir } from "node:os";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import postgres from "postgres";
import { printTable, type BenchRow } from "./stats.ts";

const benches = ["board-join", "fanout", "memory", "moves", "scoring", "import", "cross-node"] as const;
type BenchName = (typeof benches)[number];
const perBenchTimeoutMs = 15 * 60_000;

interface BenchResult {
  bench: string;
  at: string;
  rows: BenchRow[];
  details: Record<string, unknown>;
}

function selected(args: string[]): BenchName[] {
  if (args.length === 0) return [...benches];
  const unknown = args.filter((a) => !(benches as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(`unknown bench: ${unknown.join(", ")} (choose from: ${benches.join(", ")})`);
    process.exit(2);
  }
  return args as BenchName[];
}

/** A fresh, empty database on the server for one bench; the URL and how to drop it. */
async function freshDatabase(serverUrl: string, bench: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `lpb_bench_${bench.replace(/-/g, "_")}_${process.pid}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists "${name}" with (force)`);
  await admin.unsafe(`create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}

function runScript(bench: BenchName, env: Record<string, string | undefined>): Promise<number | null> {
  const script = path.join(import.meta.dirname, `${bench}-bench.ts`);
  const child = spawn(process.execPath, ["--import", "tsx", script], { env: { ...process.env, ...env }, stdio: "inherit" });
  const timer = setTimeout(() => {
    console.error(`${bench}: still running after ${perBenchTimeoutMs / 60_000} minutes; stopping it`);
    child.kill("SIGKILL");
  }, perBenchTimeoutMs);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
}

async function machine(serverUrl: string | undefined): Promise<Record<string, unknown>> {
  const cpu = cpus();
  let postgresVersion: string | undefined;
  if (serverUrl) {
    const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
    postgresVersion = (await sql<{ v: string }[]>`select current_setting('server_version') as v`)[0]?.v;
    await sql.end();
  }
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    database: serverUrl ? `PostgreSQL ${postgresVersion}` : "PGlite (embedded)",
  };
}

async function main(): Promise<void> {
  const names = selected(process.argv.slice(2));
  const serverUrl = process.env.BENCH_DATABASE_URL;
  const dir = mkdtempSync(path.join(tmpdir(), "lpb-bench-"));
  const out = path.join(dir, "rows.jsonl");
  const failed: string[] = [];
  const host = await machine(serverUrl);
  console.log(`benches: ${names.join(", ")} on ${String(host.database)}; ${host.cpus} × ${String(host.cpuModel)}, ${host.memoryGiB} GiB, Node ${host.node}`);
  try {
    for (const bench of names) {
      console.log(`\n=== ${bench}`);
      const database = serverUrl ? await freshDatabase(serverUrl, bench) : undefined;
      try {
        const code = await runScript(bench, { BENCH_OUT: out, BENCH_DATABASE_URL: database?.url });
        if (code !== 0) failed.push(`${bench} (exit ${code})`);
      } finally {
        await database?.drop();
      }
    }
    const results = readResults(out);
    const rows = results.flatMap((r) => r.rows.map((row) => ({ ...row, what: `${r.bench}: ${row.what}` })));
    console.log(`\nAll rows (${String(host.database)}):`);
    printTable(rows);
    const file = process.env.BENCH_RESULTS ?? path.join(process.cwd(), "bench-results.json");
    writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), machine: host, results, failed }, null, 2));
    console.log(`results written to ${file}`);
    if (failed.length > 0) {
      console.error(`benches that did not finish: ${failed.join(", ")}`);
      process.exitCode = 1;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readResults(file: string): BenchResult[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as BenchResult);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
