/**
 * CSV imports that end before their file does, or outlive their node: interrupted uploads,
 * limits, clean shutdowns, and imports across nodes (heartbeats, sweeps, another node's start).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { contacts, imports } from "../../drizzle/schema.ts";
import type { Db } from "../../server/db/client.ts";
import { findImport } from "../../server/repositories/imports.ts";
import { failInterruptedImports, failStaleImports } from "../../server/services/import-service.ts";
import type { IntakeService } from "../../server/services/intake-service.ts";
import { drivers, type TestDatabase } from "../support/databases.ts";
import { importContext, tag } from "../support/import-context.ts";
import { startServerProcess } from "../support/server-process.ts";
import { until } from "../support/server.ts";

describe.each(drivers)("CSV imports that stop early or span nodes, on %s", (driver) => {
  const c = importContext(driver);
  const { service, importCsv, manualImport } = c;
  let t: TestDatabase;
  let db: Db;
  let intake: IntakeService;
  beforeAll(() => {
    ({ t, db, intake } = c);
  });

  it("marks imports left running by a stopped server as failed, keeping their committed rows", async () => {
    const [running] = await db.insert(imports).values({ kind: "contacts", status: "running", total: 700, processed: 500, created: 480, updated: 20 }).returning();
    const [done] = await db.insert(imports).values({ kind: "leads", status: "done", processed: 3 }).returning();
    expect(await failInterruptedImports(db)).toBeGreaterThanOrEqual(1);
    expect(await findImport(db, running!.id)).toMatchObject({
      status: "failed",
      failure: "the server stopped during the import; 500 rows were imported",
      processed: 500,
      created: 480,
      finishedAt: expect.any(Date),
    });
    expect(await findImport(db, done!.id)).toMatchObject({ status: "done", failure: null });
  });

  it("stops a running import marked failed by another node, rolling back its next batch", async () => {
    const t6 = tag();
    const { input, progress, imports, importId, stored } = await manualImport();
    input.write(`a.${t6}@x.example,A\nb.${t6}@x.example,B\n`);
    await until(() => progress.length === 1);
    await failInterruptedImports(db);
    input.end(`c.${t6}@x.example,C\nd.${t6}@x.example,D\n`);
    await imports.settled(importId);
    expect(await stored()).toMatchObject({ status: "failed", processed: 2, failure: "the server stopped during the import; 2 rows were imported" });
    const emails = (await db.select({ email: contacts.email }).from(contacts)).map((c) => c.email).filter((e) => e?.includes(t6));
    expect(emails.sort()).toEqual([`a.${t6}@x.example`, `b.${t6}@x.example`]);
  });

  it("ends at a failed write even while the client sends nothing more (the next batch is read while one is written)", async () => {
    const t12 = tag();
    const { input, progress, imports, importId, stored } = await manualImport();
    input.write(`a.${t12}@x.example,A\nb.${t12}@x.example,B\n`);
    await until(() => progress.length === 1);
    await failInterruptedImports(db);
    // A full batch, then silence: its write rolls back, and the import must not wait for more input.
    input.write(`c.${t12}@x.example,C\nd.${t12}@x.example,D\n`);
    await imports.settled(importId);
    expect(await stored()).toMatchObject({ status: "failed", processed: 2 });
    input.destroy();
  });

  it("on several nodes: a sweep leaves an import with a fresh heartbeat running, and fails one gone silent", async () => {
    const t10 = tag();
    // Node A streams an import; another node's sweep runs meanwhile.
    const { input, progress, imports: nodeA, importId, stored } = await manualImport();
    input.write(`a.${t10}@x.example,A\nb.${t10}@x.example,B\n`);
    await until(() => progress.length === 1);
    const [silent] = await db
      .insert(imports)
      .values({ kind: "contacts", status: "running", processed: 500, created: 480, updated: 20, heartbeatAt: new Date(Date.now() - 3_600_000) })
      .returning();
    const [silentLeads] = await db
      .insert(imports)
      .values({ kind: "leads", status: "running", processed: 40, leadStrategyId: (await intake.strategies()).lead.id, heartbeatAt: new Date(Date.now() - 3_600_000) })
      .returning();
    const failed = await failStaleImports(db);
    expect(failed.map((f) => f.id).sort()).toEqual([silent!.id, silentLeads!.id].sort());
    expect(await stored()).toMatchObject({ status: "running", failure: null });
    expect(await findImport(db, silent!.id)).toMatchObject({
      status: "failed",
      processed: 500,
      created: 480,
      finishedAt: expect.any(Date),
      failure:
        "the server running the import stopped (no sign of life for 30 s); 500 rows were imported. " +
        "Uploading the same file again is safe: matching updates the records already imported instead of adding them twice",
    });
    // The default lead strategy compares the form a lead came from, which a file never names.
    expect((await findImport(db, silentLeads!.id))!.failure).toMatch(
      /^the server running the import stopped \(no sign of life for 30 s\); 40 rows were imported\. Uploading the same file again updates its contacts, but the lead matching strategy "Lead by email and form" cannot match/,
    );
    input.end(`c.${t10}@x.example,C\n`);
    await nodeA.settled(importId);
    expect(await stored()).toMatchObject({ status: "done", processed: 3, created: 3 });
  });

  it("renews the heartbeat of a slow upload, and stops an import a sweep failed", async () => {
    const t11 = tag();
    const { input, imports: nodeA, importId, stored } = await manualImport({ heartbeatMs: 20 });
    // One row: less than a batch, so nothing commits; only the heartbeat says the node is alive.
    input.write(`a.${t11}@x.example,A\n`);
    const first = (await stored()).heartbeatAt;
    for (const deadline = Date.now() + 5_000; (await stored()).heartbeatAt <= first; await new Promise((r) => setTimeout(r, 20))) {
      if (Date.now() > deadline) throw new Error("the heartbeat did not advance");
    }
    // Taken for dead (say a pause longer than the timeout): a sweep fails it. The sweep counts
    // every heartbeat older than an hour from now as stale, so a renewal cannot race it.
    expect((await failStaleImports(db, new Date(), -3_600_000)).map((f) => f.id)).toContain(importId);
    await nodeA.settled(importId);
    input.end(`b.${t11}@x.example,B\n`);
    expect(await stored()).toMatchObject({ status: "failed", processed: 0, failure: expect.stringContaining("no sign of life") });
    const emails = (await db.select({ email: contacts.email }).from(contacts)).map((c) => c.email).filter((e) => e?.includes(t11));
    expect(emails).toEqual([]);
  });

  it.runIf(driver === "postgres")("a node starting on PostgreSQL leaves another node's running import alone", async () => {
    const t12 = tag();
    const { input, progress, imports: nodeA, importId, stored } = await manualImport();
    input.write(`a.${t12}@x.example,A\nb.${t12}@x.example,B\n`);
    await until(() => progress.length === 1);
    const nodeB = startServerProcess({ DATABASE_URL: t.url!, SEED_DEMO: "0", SIMULATE: "0" });
    try {
      await nodeB.ready;
      // Its sweeper runs as soon as it holds the lease.
      await until(() => nodeB.lines.some((l) => l.includes('"lease":"import-sweeper"')), 10_000);
      await new Promise((r) => setTimeout(r, 200));
      expect(await stored()).toMatchObject({ status: "running", failure: null });
    } finally {
      await nodeB.stop();
    }
    input.end(`c.${t12}@x.example,C\n`);
    await nodeA.settled(importId);
    expect(await stored()).toMatchObject({ status: "done", processed: 3 });
  }, 30_000);

  it("fails an interrupted upload without importing its half-sent last row", async () => {
    const t7 = tag();
    const { input, progress, imports, importId, stored } = await manualImport();
    input.write(`a.${t7}@x.example,A\nb.${t7}@x.example,B\nc.${t7}@x.example,Ca`);
    await until(() => progress.length === 1);
    input.destroy(new Error("socket hang up"));
    await imports.settled(importId);
    expect(await stored()).toMatchObject({ status: "failed", processed: 2, failure: "The upload was interrupted; 2 rows were imported" });
    const emails = (await db.select({ email: contacts.email }).from(contacts)).map((c) => c.email).filter((e) => e?.includes(t7));
    expect(emails).toHaveLength(2);
  });

  it("fails a file past the row or byte limit, keeping the rows before it", async () => {
    const t8 = tag();
    const rows = Array.from({ length: 5 }, (_, i) => `r${i}.${t8}@x.example`);
    const byRows = await importCsv(["Email", ...rows].join("\n"), { kind: "contacts" }, service({ maxRows: 3, batchSize: 2 }));
    expect(byRows).toMatchObject({ status: "failed", processed: 3, created: 3, failure: "The file has more than 3 rows; 3 rows were imported" });

    const { input, progress, imports, importId, stored } = await manualImport({ maxBytes: 120 });
    input.write(`s1.${t8}@x.example,A\ns2.${t8}@x.example,B\n`);
    await until(() => progress.length === 1);
    input.end(`s3.${t8}@x.example,C\n`.repeat(5));
    await imports.settled(importId);
    expect(await stored()).toMatchObject({ status: "failed", processed: 2, failure: "The file is larger than 120 bytes; 2 rows were imported" });
  });

  it("on a clean shutdown, stops running imports after their current batch", async () => {
    const { input, progress, imports, importId, stored } = await manualImport();
    input.write(`x1.${tag()}@x.example,A\nx2.${tag()}@x.example,B\nx3.${tag()}@x.example,C\n`);
    await until(() => progress.length === 1);
    await imports.stop();
    expect(await stored()).toMatchObject({ status: "failed", processed: 2, failure: "the server stopped during the import; 2 rows were imported" });
    expect(input.destroyed).toBe(true);
    await imports.settled(importId);
  });
});
