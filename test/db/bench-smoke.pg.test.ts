/**
 * `npm run bench` end to end with tiny sizes, so the benchmarks cannot rot unnoticed: every
 * bench runs in its own processes, reports its rows, and the orchestrator gathers them. The
 * figures are not checked (goals are for `npm run bench` on a quiet machine, never for tests).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), "lpb-bench-smoke-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tiny = {
  BENCH_CLIENTS: "12",
  BENCH_LOADGEN_PROCS: "1",
  BENCH_SECONDS: "1",
  BENCH_RATE: "20",
  BENCH_ROUNDS: "1",
  BENCH_MOVERS: "2",
  BENCH_SIZES: "100,300",
  BENCH_ROWS: "300",
  BENCH_LEADS: "60",
  BENCH_INTERACTIONS: "1200",
  BENCH_BATCH: "200",
  BENCH_SENDERS: "2",
};

interface Results {
  machine: { database: string };
  results: Array<{ bench: string; rows: Array<{ what: string; figure: string; pass: boolean | null }> }>;
  failed: string[];
}

function runBench(name: string, databaseUrl: string | undefined): Promise<{ code: number | null; output: string; results: Results }> {
  const file = path.join(dir, `${name}.json`);
  const child = spawn(process.execPath, ["--import", "tsx", "test/bench/run.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...tiny, BENCH_RESULTS: file, ...(databaseUrl ? { BENCH_DATABASE_URL: databaseUrl } : {}) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) =>
    child.on("exit", (code) => resolve({ code, output, results: code === 0 ? (JSON.parse(readFileSync(file, "utf8")) as Results) : ({} as Results) })),
  );
}

const everyBench = ["board-join", "fanout", "memory", "scoring", "import"];

describe("npm run bench with tiny sizes", () => {
  it("runs every bench on PGlite and gathers their rows; the PostgreSQL-only ones say they skipped", { timeout: 300_000 }, async () => {
    const { code, output, results } = await runBench("pglite", undefined);
    expect(code, output.slice(-3000)).toBe(0);
    expect(results.failed).toEqual([]);
    expect(results.machine.database).toBe("PGlite (embedded)");
    expect(results.results.map((r) => r.bench).sort()).toEqual([...everyBench, "cross-node"].sort());
    const figures = results.results.flatMap((r) => r.rows.filter((row) => row.pass !== null || r.bench !== "cross-node").map((row) => row.figure));
    expect(figures.length).toBeGreaterThanOrEqual(8);
    expect(output).toContain("moves-bench: skipped");
    expect(output).toMatch(/\| what +\| figure +\| baseline +\| ratio +\| goal +\| pass +\|/);
  });

  it.runIf(process.env.TEST_DATABASE_URL)("runs every bench on PostgreSQL, pgbench and two nodes included", { timeout: 400_000 }, async () => {
    const { code, output, results } = await runBench("postgres", process.env.TEST_DATABASE_URL);
    expect(code, output.slice(-3000)).toBe(0);
    expect(results.failed).toEqual([]);
    expect(results.machine.database).toMatch(/^PostgreSQL \d+/);
    expect(results.results.map((r) => r.bench).sort()).toEqual([...everyBench, "moves", "cross-node"].sort());
    const moves = results.results.find((r) => r.bench === "moves")!.rows[0]!;
    expect(moves.what).toContain("lead:move");
    expect(Number(moves.figure)).toBeGreaterThan(0);
    const crossNode = results.results.find((r) => r.bench === "cross-node")!.rows[0]!;
    expect(crossNode.figure).toMatch(/ms/);
  });
});
