/**
 * `npm run start:cluster -- --nodes 3 [--port 3000]`: several server nodes on consecutive ports
 * against one PostgreSQL server (DATABASE_URL), for trying multi-node out on one machine.
 * Each node is `server/index.ts` in its own process with SOCKET_ADAPTER=postgres.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { serverArgs } from "./server-command.ts";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type Config } from "../config.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const usage = "usage: npm run start:cluster -- [--nodes N (1-16, default 2)] [--port P (default PORT or 3000)]";
const maxNodes = 16;

class UsageError extends Error {}

interface ClusterArgs {
  nodes: number;
  port: number;
  help: boolean;
}

function parseCount(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return Number(raw);
}

function parseClusterArgs(argv: string[], defaultPort: number): ClusterArgs {
  let values: { nodes?: string; port?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { nodes: { type: "string" }, port: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    const code = (err as { code?: string }).code;
    const option = /'([^']*)'/.exec((err as Error).message)?.[1]?.replace(/ <value>$/, "");
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError(`unknown option ${option ?? ""}`.trim());
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") throw new UsageError(`unexpected argument ${option ?? ""}`.trim());
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") throw new UsageError(`${option ?? "an option"} needs a value`);
    throw new UsageError((err as Error).message.split("\n")[0]!);
  }
  const nodes = values.nodes === undefined ? 2 : parseCount("nodes", values.nodes, 1, maxNodes);
  const port = values.port === undefined ? defaultPort : parseCount("port", values.port, 1, 65535);
  if (port === 0) throw new UsageError("the nodes need fixed ports: set --port or PORT to a port above 0");
  if (port + nodes - 1 > 65535) throw new UsageError(`${nodes} nodes from port ${port} would go past port 65535`);
  return { nodes, port, help: values.help ?? false };
}

/** Where this machine reaches a server listening on `host` (a wildcard address means loopback). */
function reachableUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}

function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

interface ClusterNode {
  number: number;
  url: string;
  child: ChildProcess;
  /** Resolves once the process has exited and its output is fully forwarded. */
  closed: Promise<void>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

let config: Config;
let args: ClusterArgs;
try {
  // The adapter is the cluster's to choose; a SOCKET_ADAPTER in the environment must not fail the check first.
  config = loadConfig({ ...process.env, SOCKET_ADAPTER: undefined });
  args = parseClusterArgs(process.argv.slice(2), config.port);
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`start:cluster: ${err.message} (${usage})\n`);
    process.exit(2);
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (!config.databaseUrl) {
  process.stderr.write(
    "The embedded database (PGlite) runs a single node; set DATABASE_URL to a PostgreSQL server to start a cluster\n",
  );
  process.exit(1);
}

const ports = Array.from({ length: args.nodes }, (_, i) => args.port + i);
const taken: number[] = [];
for (const port of ports) if (!(await portIsFree(config.host, port))) taken.push(port);
if (taken.length > 0) {
  process.stderr.write(`start:cluster: port ${taken.join(", ")} on ${config.host} is already in use; choose another --port\n`);
  process.exit(1);
}

// Built once here, so the nodes do not each run vite on the same output directory.
try {
  await import("./ensure-client-build.ts");
} catch (err) {
  process.stderr.write(`start:cluster: building the client failed: ${(err as Error).message}\n`);
  process.exit(1);
}

const nodes: ClusterNode[] = [];
let stopSignal: NodeJS.Signals | undefined;
const running = () => nodes.filter((n) => n.exit === undefined);

function say(line: string): void {
  process.stdout.write(`start:cluster: ${line}\n`);
}

function finishIfAllStopped(): void {
  if (running().length > 0) return;
  if (stopSignal) {
    process.exit(nodes.every((n) => n.exit?.code === 0 || n.exit?.signal === stopSignal) ? 0 : 1);
  }
  say("every node has stopped");
  process.exit(1);
}

function startNode(number: number, port: number): ClusterNode {
  const child = spawn(process.execPath, serverArgs(), {
    cwd: root,
    env: { ...process.env, PORT: String(port), SOCKET_ADAPTER: "postgres" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const node: ClusterNode = { number, url: reachableUrl(config.host, port), child, closed: Promise.resolve(), exit: undefined };
  const prefix = `[node ${number}] `;
  createInterface({ input: child.stdout! }).on("line", (line) => process.stdout.write(`${prefix}${line}\n`));
  createInterface({ input: child.stderr! }).on("line", (line) => process.stderr.write(`${prefix}${line}\n`));
  // "close" comes after the output streams end, so the node's last lines are forwarded first.
  node.closed = new Promise((resolve) =>
    child.on("close", (code, signal) => {
      node.exit = { code, signal };
      if (!stopSignal) {
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const others = running().length;
        const rest = others === 0 ? "" : others === 1 ? "; the other node keeps running" : `; ${others} other nodes keep running`;
        say(`node ${number} (${node.url}) ${how}${rest}`);
      }
      resolve();
      finishIfAllStopped();
    }),
  );
  child.on("error", (err) => say(`node ${number} could not start: ${err.message}`));
  nodes.push(node);
  return node;
}

/** Polls the node's /healthz until it answers 200; false if the node stops or the cluster is stopping first. */
async function untilServing(node: ClusterNode): Promise<boolean> {
  while (node.exit === undefined && !stopSignal) {
    try {
      const res = await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await Promise.race([new Promise((r) => setTimeout(r, 200)), node.closed]);
  }
  return false;
}

function forward(signal: NodeJS.Signals): void {
  if (!stopSignal) say(`${signal}: stopping ${running().length} node${running().length === 1 ? "" : "s"}`);
  stopSignal = signal;
  for (const node of running()) node.child.kill(signal);
  finishIfAllStopped();
}
process.on("SIGINT", () => forward("SIGINT"));
process.on("SIGTERM", () => forward("SIGTERM"));

// The first node alone runs the migrations and, if asked, the demo seed or the bootstrap admin;
// the others start once it serves, so none of them races it on an empty database.
const first = startNode(1, ports[0]!);
// A node 1 that stops before it serves ends the cluster from its close handler (nothing else runs).
if (await untilServing(first)) {
  const rest = ports.slice(1).map((port, i) => startNode(i + 2, port));
  const ok = await Promise.all(rest.map(untilServing));
  const urls = [first, ...rest.filter((_, i) => ok[i])].map((n) => n.url);
  if (!stopSignal) say(`${urls.length} node${urls.length === 1 ? "" : "s"} serving ${urls.join(" ")}`);
}
