import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { BoardSnapshot, LeadCard } from "../../shared/board.ts";
import { openPostgres } from "../../server/db/client.ts";
import { demoPassword } from "../../server/services/demo-seed.ts";
import { silentLogger } from "../support/builders.ts";
import { openTestDatabase } from "../support/databases.ts";
import { startServerProcess } from "../support/server-process.ts";
import { collectEvents, connectSocket, login, request, until, waitForConnect } from "../support/server.ts";
import { TcpProxy } from "../support/tcp-proxy.ts";
import { createApp } from "../../server/app.ts";

describe("the server process", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), "lpb-proc-"));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("stops with one line naming the variable when the configuration is bad", async () => {
    const proc = startServerProcess({ PORT: "eighty", DATA_DIR: tempDir() });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr().trim().split("\n")).toEqual([expect.stringMatching(/^Invalid configuration: PORT: /)]);
  });

  it("stops with a clear message and exit code 1 when the database is unreachable", async () => {
    const proc = startServerProcess({ DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toMatch(/Cannot open the PostgreSQL server in DATABASE_URL: .*ECONNREFUSED/);
  });

  it("seeds the demo on an empty embedded database, simulates, stops cleanly, and keeps every change", async () => {
    const dataDir = tempDir();
    const first = startServerProcess({ DATA_DIR: dataDir, SIMULATE_INTERVAL_MS: "200" });
    const url = await first.ready;
    expect((await (await fetch(`${url}/healthz`)).json())).toEqual({ status: "ok", database: "pglite" });
    const cookie = await login(url, "manager@demo.example", demoPassword);
    const socket = connectSocket(url, cookie);
    const events = collectEvents(socket);
    await waitForConnect(socket);
    const join = await request<BoardSnapshot>(socket, "board:join", {});
    if (!join.ok) throw new Error(join.error.message);
    const snapshot = join.data;
    // Every column's total, and its first page of cards (the rest would come by board:page).
    const totals = Object.values(snapshot.columns).map((c) => c.total);
    expect(totals.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(300);
    expect(snapshot.leads.length).toBe(totals.reduce((a, b) => a + Math.min(b, 50), 0));
    expect(new Set(snapshot.leads.map((l) => l.stage)).size).toBe(5);
    // The simulator brings new leads in through the same services: they arrive as events.
    await until(() => events.some((e) => e.type === "lead.created"), 10_000);
    const lead = snapshot.leads.find((l) => l.stage === "automated_marketing_qualification")!;
    const moved = await request<LeadCard>(socket, "lead:move", { leadId: lead.id, toStage: "inquiry", expectedVersion: lead.version });
    expect(moved.ok).toBe(true);
    socket.disconnect();
    expect(await first.stop("SIGTERM")).toBe(0);
    expect(first.lines.some((l) => l.includes("stopped cleanly"))).toBe(true);

    const second = startServerProcess({ DATA_DIR: dataDir, SIMULATE: "0" });
    const url2 = await second.ready;
    expect(second.lines.some((l) => l.includes("loaded the demo organisation"))).toBe(false);
    const cookie2 = await login(url2, "manager@demo.example", demoPassword);
    const res = await fetch(`${url2}/api/leads/${lead.id}`, { headers: { cookie: cookie2 } });
    expect(await res.json()).toMatchObject({ stage: "inquiry", version: lead.version + 1 });
    expect(await second.stop("SIGINT")).toBe(0);
  });

  it("creates the bootstrap admin on a database with no users", async () => {
    const proc = startServerProcess({
      DATA_DIR: tempDir(),
      SEED_DEMO: "0",
      BOOTSTRAP_ADMIN_EMAIL: "boss@company.example",
      BOOTSTRAP_ADMIN_PASSWORD: "a-long-password",
    });
    const url = await proc.ready;
    const cookie = await login(url, "boss@company.example", "a-long-password");
    const me = await fetch(`${url}/api/me`, { headers: { cookie } });
    expect(await me.json()).toMatchObject({ user: { role: "admin" } });
    expect(await proc.stop()).toBe(0);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)("losing the PostgreSQL server while running", () => {
  it("answers 503 UNAVAILABLE while it is gone and recovers without a restart", async () => {
    const t = await openTestDatabase("postgres");
    const target = new URL(t.url!);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const viaProxy = new URL(t.url!);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const database = await openPostgres(viaProxy.toString());
    // Live scoring stays off here: its polling makes it likely that a query is in flight at the
    // cut, which hits a postgres.js defect that throws outside any promise (porsager/postgres#1154;
    // server/index.ts logs and survives it, vitest would report it).
    const app = await createApp({ database, logger: silentLogger, scoring: { autoStart: false } });
    const { url } = await app.listen(0, "127.0.0.1");
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      await proxy.cut();
      const down = await fetch(`${url}/healthz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ error: { code: "UNAVAILABLE" } });
      const login = await fetch(`${url}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: "a@b.example", password: "whatever" }),
      });
      expect(login.status).toBe(503);
      expect(await login.json()).toMatchObject({ error: { code: "UNAVAILABLE" } });
      await proxy.start();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await fetch(`${url}/healthz`)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
    } finally {
      await app.close();
      await database.close();
      await proxy.cut();
      await t.close();
    }
  });
});

