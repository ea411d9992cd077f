/**
 * A minimal client of the V8 inspector protocol, for benches to look inside a server child
 * without hooks in the product: start the child with `NODE_OPTIONS=--inspect=127.0.0.1:0`,
 * then `Inspector.attach(server)` reads the `ws://` URL it prints and connects.
 * Used for heap measurements after a full GC and for CPU profiles (`--cpu-prof` is not
 * allowed in NODE_OPTIONS on Node 20).
 */
import { writeFileSync } from "node:fs";
import WebSocket from "ws";
import type { ServerProcess } from "../support/server-process.ts";

export const inspectOption = "--inspect=127.0.0.1:0";

export class Inspector {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (msg.error) w?.reject(new Error(`inspector: ${msg.error.message}`));
      else w?.resolve(msg.result);
    });
  }

  /** Connects to a server child started with `inspectOption` in its NODE_OPTIONS. */
  static async attach(server: ServerProcess, timeoutMs = 30_000): Promise<Inspector> {
    const deadline = Date.now() + timeoutMs;
    let url: string | undefined;
    while (!(url = server.lines.map((l) => /Debugger listening on (ws:\/\/\S+)/.exec(l)?.[1]).find(Boolean))) {
      if (Date.now() > deadline) throw new Error("the server printed no inspector URL; is --inspect in its NODE_OPTIONS?");
      await new Promise((r) => setTimeout(r, 50));
    }
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new Inspector(ws);
  }

  call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Heap used after a full garbage collection, in bytes. */
  async heapUsedAfterGc(): Promise<number> {
    // Two rounds: objects freed by finalizers of the first are collected by the second.
    await this.call("HeapProfiler.collectGarbage");
    await this.call("HeapProfiler.collectGarbage");
    const usage = await this.call<{ usedSize: number; totalSize: number }>("Runtime.getHeapUsage");
    return usage.usedSize;
  }

  async startProfile(): Promise<void> {
    await this.call("Profiler.enable");
    await this.call("Profiler.setSamplingInterval", { interval: 200 });
    await this.call("Profiler.start");
  }

  /** Stops the CPU profile and writes it as a .cpuprofile file (Chrome DevTools format). */
  async stopProfile(file: string): Promise<void> {
    const { profile } = await this.call<{ profile: unknown }>("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
  }

  close(): void {
    this.ws.close();
  }
}
