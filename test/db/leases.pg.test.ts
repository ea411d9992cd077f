/**
 * Once-only work across nodes: two lease runners on one real PostgreSQL database stand in for
 * two nodes, each with a connection of its own.
 */
import postgres from "postgres";
import { afterEach, describe, expect, it } from "vitest";
import { LeaseRunner, type LeaseJob } from "../../server/services/leases.ts";
import { silentLogger } from "../support/builders.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { until } from "../support/server.ts";

const retryMs = 20;

/** A job that records whether it runs and how often it was started. */
function makeJob(): LeaseJob & { running: boolean; starts: number } {
  return {
    running: false,
    starts: 0,
    start() {
      this.running = true;
      this.starts++;
    },
    stop() {
      this.running = false;
    },
  };
}

/** Waits until each runner has finished at least `more` further rounds. */
async function roundsPass(runners: LeaseRunner[], more = 3): Promise<void> {
  const targets = runners.map((r) => r.rounds + more);
  await until(() => runners.every((r, i) => r.rounds >= targets[i]!));
}

describe("a lease on the embedded database", () => {
  it("always runs its job, the only node there is, and stops it on close", async () => {
    const runner = new LeaseRunner({ kind: "pglite" }, { logger: silentLogger, retryMs });
    const job = makeJob();
    runner.add("simulator", job);
    await until(() => job.running);
    expect(runner.holds("simulator")).toBe(true);
    await runner.close();
    expect(job.running).toBe(false);
    expect(runner.holds("simulator")).toBe(false);
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)("leases on PostgreSQL (skipped: set TEST_DATABASE_URL to run)", () => {
  let t: TestDatabase | undefined;
  const runners: LeaseRunner[] = [];
  const admins: postgres.Sql[] = [];
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.close();
    for (const a of admins.splice(0)) await a.end();
    await t?.close();
    t = undefined;
  });

  async function nodes(count: number): Promise<LeaseRunner[]> {
    t ??= await openTestDatabase("postgres");
    const made = Array.from({ length: count }, () => new LeaseRunner({ kind: "postgres", url: t!.url! }, { logger: silentLogger, retryMs }));
    runners.push(...made);
    return made;
  }

  /** A third connection, as an operator (or a dying machine) would have. */
  function admin(): postgres.Sql {
    const sql = postgres(t!.url!, { max: 1, onnotice: () => {}, fetch_types: false });
    admins.push(sql);
    return sql;
  }

  it("runs a job on exactly one of two nodes", async () => {
    const [a, b] = await nodes(2);
    const jobA = makeJob();
    const jobB = makeJob();
    a!.add("simulator", jobA);
    b!.add("simulator", jobB);
    await until(() => jobA.running || jobB.running);
    await roundsPass([a!, b!]);
    expect([jobA.running, jobB.running].filter(Boolean)).toHaveLength(1);
    expect(jobA.starts + jobB.starts).toBe(1);
    expect([a!.holds("simulator"), b!.holds("simulator")].filter(Boolean)).toHaveLength(1);
  });

  it("hands the job over when the holder closes, and releases the lock", async () => {
    const [a, b] = await nodes(2);
    const jobA = makeJob();
    a!.add("simulator", jobA);
    await until(() => jobA.running);
    const jobB = makeJob();
    b!.add("simulator", jobB);
    await roundsPass([b!]);
    expect(jobB.running).toBe(false);

    await a!.close();
    expect(jobA.running).toBe(false);
    await until(() => jobB.running);
    expect(b!.holds("simulator")).toBe(true);
    expect(jobA.starts).toBe(1);
  });

  it("hands the job over when the holder's connection is killed, and the old holder stops it", async () => {
    const [a, b] = await nodes(2);
    const jobA = makeJob();
    a!.add("rescore-resume", jobA);
    await until(() => jobA.running);
    const jobB = makeJob();
    b!.add("rescore-resume", jobB);
    await roundsPass([b!]);
    expect(jobB.running).toBe(false);

    const sql = admin();
    const holders = await sql<{ pid: number }[]>`
      select pid from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`;
    expect(holders).toHaveLength(1);
    await sql`select pg_terminate_backend(${holders[0]!.pid}::int)`;

    await until(() => jobB.running && !jobA.running);
    // The old holder reconnects but does not take the lease back while the new one holds it.
    await roundsPass([a!, b!]);
    expect(jobA.running).toBe(false);
    expect(a!.holds("rescore-resume")).toBe(false);
    expect(b!.holds("rescore-resume")).toBe(true);
    expect(jobB.starts).toBe(1);
  });

  it("runs jobs of different names independently", async () => {
    const [a, b] = await nodes(2);
    const simulatorA = makeJob();
    const rescoreB = makeJob();
    a!.add("simulator", simulatorA);
    b!.add("rescore-resume", rescoreB);
    await until(() => simulatorA.running && rescoreB.running);

    // Both nodes competing for both names: each name runs on exactly one node.
    const [c, d] = await nodes(2);
    const jobs = { c: { simulator: makeJob(), rescore: makeJob() }, d: { simulator: makeJob(), rescore: makeJob() } };
    for (const [runner, own] of [[c!, jobs.c], [d!, jobs.d]] as const) {
      runner.add("simulator-2", own.simulator);
      runner.add("rescore-2", own.rescore);
    }
    await until(() => (jobs.c.simulator.running || jobs.d.simulator.running) && (jobs.c.rescore.running || jobs.d.rescore.running));
    await roundsPass([c!, d!]);
    expect([jobs.c.simulator.running, jobs.d.simulator.running].filter(Boolean)).toHaveLength(1);
    expect([jobs.c.rescore.running, jobs.d.rescore.running].filter(Boolean)).toHaveLength(1);
    expect(simulatorA.running && rescoreB.running).toBe(true);
  });
});
