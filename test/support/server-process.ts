import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { serverArgs } from "../../server/tools/server-command.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  /** Every line the process wrote, stdout and stderr. */
  lines: string[];
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves with the URL from the "serving" log line. */
  ready: Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `server/index.ts` as `npm start` does after the client build, in its own process.
 * BENCH_SERVER_NODE_ARGS adds node options that NODE_OPTIONS refuses (e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server under a benchmark).
 */
export function startServerProcess(env: Record<string, string>): ServerProcess {
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, serverArgs(...nodeArgs), {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  let stderr = "";
  let resolveReady: (url: string) => void;
  let rejectReady: (err: Error) => void;
  const ready = new Promise<string>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  // Tests that expect an early exit never await readiness.
  ready.catch(() => {});
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) {
      lines.push(line);
      const match = line.match(/serving (http:\/\/[\d.]+:\d+)/);
      if (match) resolveReady(match[1]!);
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
    onData(chunk);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      rejectReady(new Error(`server exited with ${code} before it was ready:\n${lines.join("\n")}`));
      resolve(code);
    }),
  );
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    ready,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}
