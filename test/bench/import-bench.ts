/**
 * CSV import throughput and memory: `npx tsx test/bench/import-bench.ts`.
 *
 * Starts the server in its own process, streams a generated CSV to `POST /api/imports`
 * (made on the fly by a Readable: the file never exists whole, here or there), polls
 * `GET /api/imports/:id` until done, and prints rows/s and the server's peak RSS (VmHWM).
 *
 *   BENCH_ROWS (default 100000)      data rows in the file
 *   BENCH_KIND (default leads)       leads | contacts
 *   BENCH_DATABASE_URL               run the server on PostgreSQL instead of embedded PGlite
 *   BENCH_NODE_OPTIONS               NODE_OPTIONS for the server (e.g. --import a profiler hook)
 *   BENCH_SERVER_LOG                 a file to write the server's output to at the end
 *
 * Goals (reported, not asserted): ≥ 10,000 rows/s, peak RSS ≤ 300 MB.
 */
import http from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import type { ImportView } from "../../shared/schemas/imports.ts";
import { startServerProcess } from "../support/server-process.ts";
import { login } from "../support/server.ts";
import { report } from "./stats.ts";

const rows = Number(process.env.BENCH_ROWS ?? 100_000);
const kind = process.env.BENCH_KIND === "contacts" ? "contacts" : "leads";
const databaseUrl = process.env.BENCH_DATABASE_URL;
const email = "bench.admin@bench.example";
const password = "bench-password-123";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The CSV, a few rows per chunk; a run id keeps repeated runs on one database apart. */
function csvStream(count: number, runId: string): Readable {
  const header = kind === "leads" ? "First Name,Last Name,Email,Company,Job Title,Phone,Country,Topic\n" : "First Name,Last Name,E-mail Address,Company Name,Job Title,Business Phone,Country/Region\n";
  let i = 0;
  return new Readable({
    read() {
      if (i === 0) this.push(header);
      let chunk = "";
      for (const end = Math.min(i + 200, count); i < end; i++) {
        const row = `Person${i},Tester${i % 977},p${i}.${runId}@bench.example,Company ${i % 5000} ${runId},Engineer,+33 1 ${String(i).padStart(8, "0")},France`;
        chunk += kind === "leads" ? `${row},Topic ${i % 50}\n` : `${row}\n`;
      }
      this.push(chunk || null);
    },
  });
}

/** Posts the stream; resolves with the id from the first chunk of the answer, which ends with the upload. */
function startImport(url: string, cookie: string, body: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/api/imports?kind=${kind}&fileName=bench.csv`, {
      method: "POST",
      headers: { cookie, "content-type": "text/csv" },
    });
    req.on("response", (res) => {
      res.setEncoding("utf8");
      let text = "";
      res.on("data", (chunk: string) => {
        text += chunk;
        if (res.statusCode !== 202) return;
        try {
          resolve((JSON.parse(text) as { importId: string }).importId);
        } catch {
          // Wait for the rest of the chunk.
        }
      });
      res.on("end", () => res.statusCode !== 202 && reject(new Error(`import refused: ${res.statusCode} ${text}`)));
    });
    req.on("error", reject);
    body.pipe(req);
  });
}

/**
 * One progress read. A reset is retried: a busy server (PGlite runs queries on its event loop)
 * may close an idle keep-alive connection just as the next poll reuses it.
 */
async function poll(url: string, cookie: string): Promise<ImportView> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { headers: { cookie } });
      return (await res.json()) as ImportView;
    } catch (err) {
      if (attempt >= 5) throw err;
      await sleep(100);
    }
  }
}

function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

/** CPU seconds the process has used (user + system): less sensitive to a busy machine than wall time. */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the pid and the name.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "lpb-import-bench-"));
  const server = startServerProcess({
    SEED_DEMO: "0",
    SIMULATE: "0",
    LOG_LEVEL: "info",
    ...(process.env.BENCH_NODE_DEBUG ? { NODE_DEBUG: process.env.BENCH_NODE_DEBUG } : {}),
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    BOOTSTRAP_ADMIN_EMAIL: email,
    BOOTSTRAP_ADMIN_PASSWORD: password,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATA_DIR: dataDir }),
  });
  try {
    const url = await server.ready;
    const cookie = await login(url, email, password);
    const pid = server.child.pid!;
    const before = memoryOf(pid);
    const cpuBefore = cpuSecondsOf(pid);
    console.log(`server ${url} (${databaseUrl ? "postgres" : "pglite"}), pid ${pid}; importing ${rows} ${kind}; RSS before ${before.rss.toFixed(0)} MB (peak so far ${before.hwm.toFixed(0)} MB)`);

    const started = performance.now();
    const importId = await startImport(url, cookie, csvStream(rows, Date.now().toString(36)));
    let view: ImportView;
    let lastPrint = 0;
    let peakRss = before.rss;
    for (;;) {
      view = await poll(`${url}/api/imports/${importId}`, cookie);
      const mem = memoryOf(pid);
      peakRss = Math.max(peakRss, mem.rss);
      const elapsed = (performance.now() - started) / 1000;
      if (elapsed - lastPrint >= 5) {
        lastPrint = elapsed;
        console.log(`  ${elapsed.toFixed(0)}s: ${view.processed} rows, ${(view.processed / elapsed).toFixed(0)} rows/s, RSS ${mem.rss.toFixed(0)} MB`);
      }
      if (view.status !== "running") break;
      await sleep(250);
    }
    const seconds = (performance.now() - started) / 1000;
    const after = memoryOf(pid);
    const serverCpu = cpuSecondsOf(pid) - cpuBefore;
    const rowsPerSecond = Math.round(view.processed / seconds);
    // VmHWM counts start-up too (PGlite's migrations peak high): it speaks for the import only if the import raised it.
    const peakMb = Math.round(after.hwm > before.hwm ? after.hwm : peakRss);
    const finished = view.status === "done" && view.processed === rows;
    report(
      "import",
      [
        {
          what: `CSV import of ${rows.toLocaleString("en-US")} ${kind} with matching (${databaseUrl ? "PostgreSQL" : "PGlite"})`,
          figure: `${rowsPerSecond.toLocaleString("en-US")} rows/s`,
          baseline: "—",
          ratio: "—",
          goal: ">= 10,000 rows/s",
          pass: finished && rowsPerSecond >= 10_000,
        },
        {
          what: "  server peak RSS during that import",
          figure: `${peakMb} MB`,
          baseline: "—",
          ratio: "—",
          goal: "<= 300 MB",
          pass: peakMb <= 300,
        },
      ],
      {
        database: databaseUrl ? "postgres" : "pglite",
        kind,
        rows,
        status: view.status,
        failure: view.failure,
        processed: view.processed,
        created: view.created,
        updated: view.updated,
        errors: view.errors.length + view.errorsNotListed,
        seconds: Number(seconds.toFixed(1)),
        /** The server's CPU time during the import (includes the score worker evaluating the new leads as they come). */
        serverCpuSeconds: Number(serverCpu.toFixed(1)),
        rowsPerSecond,
        rssBeforeMb: Math.round(before.rss),
        /** VmHWM before the import: start-up (compiling, migrating) may set the peak on its own. */
        peakRssBeforeImportMb: Math.round(before.hwm),
        peakRssSampledMb: Math.round(peakRss),
        peakRssVmHwmMb: Math.round(after.hwm),
      },
    );
  } catch (err) {
    console.error(server.lines.slice(-60).join("\n"), "\nexit code", server.child.exitCode, server.child.signalCode, "\nstderr", server.stderr().slice(-3000));
    throw err;
  } finally {
    await server.stop();
    if (process.env.BENCH_SERVER_LOG) writeFileSync(process.env.BENCH_SERVER_LOG, `${server.lines.join("\n")}\n`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
