/**
 * The viewers of a bench, spread over several load-generator processes (viewer-child.ts) so
 * that receiving 1,000 sockets' events is not what the bench measures. The parent sends
 * moves and knows when; the children count deliveries and, while recording, when each
 * event reached the last of their viewers.
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { ChildRequest, Receipts } from "./viewer-child.ts";

/** Wall-clock milliseconds, comparable across the bench's processes. */
export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export interface Delivery {
  /** Events received at every viewer, with the time from sending to the last viewer's receipt. */
  atAll: number[];
  /** Per such event, the time from its first viewer's receipt to its last one's: the fan-out itself. */
  spread: number[];
  /** Events some viewer never received (should be 0). */
  incomplete: number;
}

export class ViewerPool {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private viewers = 0;

  private constructor(private readonly children: ChildProcess[]) {
    for (const child of children) {
      child.on("message", (msg: { id: number; result?: unknown; error?: string }) => {
        const w = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        if (msg.error !== undefined) w?.reject(new Error(`load generator: ${msg.error}`));
        else w?.resolve(msg.result);
      });
    }
  }

  static start(processes: number): ViewerPool {
    const file = path.join(import.meta.dirname, "viewer-child.ts");
    return new ViewerPool(
      Array.from({ length: processes }, () => fork(file, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] })),
    );
  }

  get pids(): number[] {
    return this.children.map((c) => c.pid!).filter(Boolean);
  }

  /** Total CPU seconds the load generators have used so far. */
  cpuSeconds(): number {
    return this.pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);
  }

  private ask<T>(child: ChildProcess, req: ChildRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, req });
    });
  }

  private all<T>(req: (i: number) => ChildRequest): Promise<T[]> {
    return Promise.all(this.children.map((c, i) => this.ask<T>(c, req(i))));
  }

  /** Connects `count` viewers spread evenly over the processes; `join` makes each send `board:join` with it. */
  async open(url: string, count: number, options: { cookie?: string; join?: Record<string, unknown> } = {}): Promise<void> {
    const n = this.children.length;
    await this.all((i) => ({ cmd: "open", url, count: Math.floor(count / n) + (i < count % n ? 1 : 0), ...options }));
    this.viewers = count;
  }

  /** Events delivered to all viewers so far (every `board:event` frame counts once). */
  async delivered(): Promise<number> {
    const counts = await this.all<{ delivered: number }>(() => ({ cmd: "delivered" }));
    return counts.reduce((sum, c) => sum + c.delivered, 0);
  }

  async record(on: boolean): Promise<Receipts["events"][]> {
    return (await this.all<Receipts>(() => ({ cmd: "record", on }))).map((r) => r.events);
  }

  /** Latency to the last viewer of each key in `sentAt`, from what the children recorded. */
  static deliveries(sentAt: Map<string, number>, receipts: Receipts["events"][], viewers: number): Delivery {
    const merged = new Map<string, { count: number; firstAt: number; lastAt: number }>();
    for (const events of receipts) {
      for (const [key, count, firstAt, lastAt] of events) {
        const m = merged.get(key);
        if (m) {
          m.count += count;
          m.firstAt = Math.min(m.firstAt, firstAt);
          m.lastAt = Math.max(m.lastAt, lastAt);
        } else merged.set(key, { count, firstAt, lastAt });
      }
    }
    const atAll: number[] = [];
    const spread: number[] = [];
    let incomplete = 0;
    for (const [key, t0] of sentAt) {
      const m = merged.get(key);
      if (m && m.count >= viewers) {
        atAll.push(m.lastAt - t0);
        spread.push(m.lastAt - m.firstAt);
      } else incomplete++;
    }
    const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
    return { atAll: sorted(atAll), spread: sorted(spread), incomplete };
  }

  get size(): number {
    return this.viewers;
  }

  async closeViewers(): Promise<void> {
    await this.all(() => ({ cmd: "close" }));
    this.viewers = 0;
  }

  stop(): void {
    for (const child of this.children) if (child.connected) child.disconnect();
    for (const child of this.children) if (child.exitCode === null) child.kill();
  }
}
