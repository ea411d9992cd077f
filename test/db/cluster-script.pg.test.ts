/**
 * `npm run start:cluster`: the real script, its real nodes, a real PostgreSQL server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoPassword } from "../../server/services/demo-seed.ts";
import { openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { login } from "../support/server.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const embeddedOnly =
  "The embedded database (PGlite) runs a single node; set DATABASE_URL to a PostgreSQL server to start a cluster";

interface ClusterProcess {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  /** Resolves with the URLs of the "N nodes serving ..." line. */
  serving: Promise<string[]>;
}

function startCluster(args: string[], env: Record<string, string>): ClusterProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "server/tools/cluster.ts", ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let onServing: (urls: string[]) => void = () => {};
  let onExitEarly: (err: Error) => void = () => {};
  const serving = new Promise<string[]>((resolve, reject) => {
    onServing = resolve;
    onExitEarly = reject;
  });
  serving.catch(() => {});
  let pending = "";
  const onData = (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split("\n");
    pending = complete.pop()!;
    for (const line of complete) {
      lines.push(line);
      const match = /^start:cluster: \d+ nodes? serving (.+)$/.exec(line);
      if (match) onServing(match[1]!.split(" "));
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on("close", (code) => {
      if (pending) lines.push(pending);
      onExitEarly(new Error(`the cluster exited with ${code} before serving:\n${lines.join("\n")}`));
      resolve(code);
    }),
  );
  return { child, lines, exited, serving };
}

function listenOn(port: number): Promise<{ port: number; close: () => Promise<void> } | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () =>
      resolve({
        port: (server.address() as { port: number }).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    );
  });
}

/** A port P such that P .. P+count-1 are free on loopback right now. */
async function freeConsecutivePorts(count: number): Promise<number> {
  for (;;) {
    const probes = [await listenOn(0)];
    const base = probes[0]!.port;
    for (let i = 1; i < count && base + i <= 65535; i++) probes.push(await listenOn(base + i));
    await Promise.all(probes.map((p) => p?.close()));
    if (probes.length === count && probes.every(Boolean)) return base;
  }
}

/** The `pid` field pino writes on every line of one node. */
function pidOfNode(lines: string[], node: number): number {
  const line = lines.find((l) => l.startsWith(`[node ${node}] {`));
  if (!line) throw new Error(`node ${node} logged nothing`);
  return (JSON.parse(line.slice(`[node ${node}] `.length)) as { pid: number }).pid;
}

describe("start:cluster refuses what it cannot run", () => {
  it("exits 1 with one line when DATABASE_URL is not set", async () => {
    const cluster = startCluster(["--nodes", "3"], {});
    expect(await cluster.exited).toBe(1);
    expect(cluster.lines).toEqual([embeddedOnly]);
  });

  it.concurrent.each([
    [["--nodes", "0"], /--nodes must be a whole number from 1 to 16, not "0"/],
    [["--nodes", "x"], /--nodes must be a whole number from 1 to 16, not "x"/],
    [["--nodes", "17"], /--nodes must be a whole number from 1 to 16/],
    [["--nodes"], /--nodes needs a value/],
    [["--port", "70000"], /--port must be a whole number from 1 to 65535/],
    [["--port", "65535", "--nodes", "2"], /would go past port 65535/],
    [["--workers", "2"], /unknown option --workers/],
    [["three"], /unexpected argument three/],
  ])("exits 2 with one line for %j", async (args, message) => {
    const cluster = startCluster(args, { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" });
    expect(await cluster.exited).toBe(2);
    expect(cluster.lines).toEqual([expect.stringMatching(message)]);
  });
});

if (!process.env.TEST_DATABASE_URL) {
  console.warn("cluster-script.pg.test.ts: the cluster itself is tested only with TEST_DATABASE_URL (a PostgreSQL server)");
}

describe.runIf(process.env.TEST_DATABASE_URL)("start:cluster on PostgreSQL", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase("postgres");
  });
  afterAll(async () => {
    await t?.close();
  });

  async function withCluster(env: Record<string, string>, body: (cluster: ClusterProcess, urls: string[]) => Promise<void>) {
    const base = await freeConsecutivePorts(2);
    const cluster = startCluster(["--nodes", "2", "--port", String(base)], { DATABASE_URL: t.url!, SIMULATE: "0", ...env });
    try {
      const urls = await cluster.serving;
      expect(urls).toEqual([`http://127.0.0.1:${base}`, `http://127.0.0.1:${base + 1}`]);
      await body(cluster, urls);
    } finally {
      if (cluster.child.exitCode === null) {
        cluster.child.kill("SIGTERM");
        await cluster.exited;
      }
    }
  }

  // Slow only when dist/client is older than the client sources: the script builds it first.
  it("serves one board from two nodes on consecutive ports, seeds once, and stops both on SIGTERM", { timeout: 120_000 }, async () => {
    await withCluster({ SEED_DEMO: "1" }, async (cluster, urls) => {
      for (const url of urls) {
        expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "ok", database: "postgres" });
      }
      // Only the first node found the database empty; the second started after it had seeded.
      expect(cluster.lines.filter((l) => l.includes("loaded the demo organisation"))).toEqual([
        expect.stringMatching(/^\[node 1\] /),
      ]);
      for (const node of [1, 2]) {
        expect(cluster.lines.some((l) => l.startsWith(`[node ${node}] `) && l.includes(`serving ${urls[node - 1]}`))).toBe(true);
      }

      // Sessions live in the database: a sign-in on node 1 holds on node 2.
      const cookie = await login(urls[0]!, "admin@demo.example", demoPassword);
      const me = await fetch(`${urls[1]}/api/me`, { headers: { cookie } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ user: { email: "admin@demo.example", role: "admin" } });

      cluster.child.kill("SIGTERM");
      expect(await cluster.exited).toBe(0);
      for (const node of [1, 2]) {
        expect(cluster.lines.some((l) => l.startsWith(`[node ${node}] `) && l.includes("stopped cleanly"))).toBe(true);
      }
      for (const url of urls) await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    });
  });

  it("says when a node dies and keeps the other one serving", async () => {
    await withCluster({}, async (cluster, urls) => {
      process.kill(pidOfNode(cluster.lines, 2), "SIGKILL");
      const reported = `start:cluster: node 2 (${urls[1]}) was killed by SIGKILL; the other node keeps running`;
      await new Promise<void>((resolve) => {
        const check = () => (cluster.lines.includes(reported) ? resolve() : setTimeout(check, 50));
        check();
      });
      expect((await fetch(`${urls[0]}/healthz`)).status).toBe(200);

      cluster.child.kill("SIGTERM");
      // Not every node stopped cleanly: node 2 was killed.
      expect(await cluster.exited).toBe(1);
      expect(cluster.lines.some((l) => l.startsWith("[node 1] ") && l.includes("stopped cleanly"))).toBe(true);
    });
  });
});
