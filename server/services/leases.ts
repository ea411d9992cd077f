import type { Logger } from "pino";
import postgres from "postgres";

/** Work that one node at a time should do while it holds the lease. */
export interface LeaseJob {
  start(): void | Promise<void>;
  /** Ends the work; the lease is released (or already lost) only after this settles. */
  stop(): void | Promise<void>;
}

/** Where leases are taken: the embedded database is one node, so it needs no lock. */
export type LeaseTarget = { kind: "pglite" } | { kind: "postgres"; url: string };

export interface LeaseOptions {
  logger: Logger;
  /** How often a node that does not hold a lease tries to take it, and a holder checks it still does. */
  retryMs?: number;
}

interface Lease {
  name: string;
  job: LeaseJob;
  held: boolean;
}

/**
 * Once-only work across nodes. Each named job runs on the node holding the PostgreSQL session
 * advisory lock `hashtext('lpb:' || name)`, taken on a connection of the runner's own. A node
 * that dies loses that connection, so the server frees the lock and another node's next try
 * takes it over.
 *
 * The connection's backend pid is checked on every round: postgres.js reconnects silently,
 * and a new session holds none of the old session's locks. When the pid changes or a query
 * fails, every job is stopped and the connection is ended (freeing anything the new session
 * took), then the runner tries again. Between a connection's loss and the next round both the
 * old and the new holder may run a job, so jobs must tolerate a brief overlap.
 */
export class LeaseRunner {
  private readonly leases = new Map<string, Lease>();
  private readonly retryMs: number;
  private client: postgres.Sql | undefined;
  private pid: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private closed = false;
  /** Rounds of tries and checks finished (tests wait on it instead of on time). */
  rounds = 0;

  constructor(
    private readonly target: LeaseTarget,
    private readonly options: LeaseOptions,
  ) {
    this.retryMs = options.retryMs ?? 5000;
  }

  /** Registers a job; it starts here once this node holds its lease. */
  add(name: string, job: LeaseJob): void {
    if (this.closed) throw new Error("the lease runner is closed");
    if (this.leases.has(name)) throw new Error(`a job named ${name} is already registered`);
    const lease: Lease = { name, job, held: false };
    this.leases.set(name, lease);
    if (this.target.kind === "pglite") {
      void this.take(lease);
      return;
    }
    this.schedule(0);
  }

  /** Whether this node holds the lease (and so runs the job) now. */
  holds(name: string): boolean {
    return this.leases.get(name)?.held ?? false;
  }

  /** Stops the jobs this node runs, releases their leases, and frees the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.round;
    for (const lease of this.leases.values()) {
      if (!lease.held) continue;
      await this.release(lease);
      if (this.client) {
        await this.client`select pg_advisory_unlock(hashtext(${lockKey(lease.name)}))`.catch(() => undefined);
      }
    }
    await this.endConnection();
  }

  private schedule(delay: number): void {
    if (this.closed || this.round) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.round = this.tryLeases().finally(() => {
        this.round = undefined;
        this.rounds++;
        this.schedule(this.retryMs);
      });
    }, delay);
    this.timer.unref?.();
  }

  private async tryLeases(): Promise<void> {
    if (this.target.kind !== "postgres" || this.closed) return;
    try {
      this.client ??= postgres(this.target.url, {
        max: 1,
        onnotice: () => {},
        connect_timeout: 5,
        fetch_types: false,
        // The session is the lease: it must never be recycled while it holds one.
        idle_timeout: 0,
        max_lifetime: null,
      });
      const client = this.client;
      this.checkSession((await client<{ pid: number }[]>`select pg_backend_pid() as pid`)[0]!.pid);
      for (const lease of this.leases.values()) {
        if (lease.held || this.closed) continue;
        const [row] = await client<{ locked: boolean; pid: number }[]>`
          select pg_try_advisory_lock(hashtext(${lockKey(lease.name)})) as locked, pg_backend_pid() as pid`;
        this.checkSession(row!.pid);
        if (row!.locked) await this.take(lease);
      }
    } catch (err) {
      if (this.closed) return;
      this.options.logger.warn({ err }, "lost the lease connection; stopping leased work and retrying");
      await this.loseAll();
      await this.endConnection();
    }
  }

  /** A different backend is a new session: whatever the old one held is gone. */
  private checkSession(pid: number): void {
    if (this.pid === undefined) this.pid = pid;
    if (pid !== this.pid) throw new Error(`the lease session changed (backend ${this.pid} became ${pid})`);
  }

  private async take(lease: Lease): Promise<void> {
    lease.held = true;
    this.options.logger.info({ lease: lease.name }, "took the lease; running its work here");
    try {
      await lease.job.start();
    } catch (err) {
      this.options.logger.error({ err, lease: lease.name }, "leased work failed to start");
    }
  }

  private async release(lease: Lease): Promise<void> {
    lease.held = false;
    try {
      await lease.job.stop();
    } catch (err) {
      this.options.logger.error({ err, lease: lease.name }, "leased work failed to stop");
    }
  }

  private async loseAll(): Promise<void> {
    for (const lease of this.leases.values()) {
      if (!lease.held) continue;
      this.options.logger.warn({ lease: lease.name }, "lost the lease; stopping its work here");
      await this.release(lease);
    }
  }

  private async endConnection(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.pid = undefined;
    await client?.end({ timeout: 1 }).catch(() => undefined);
  }
}

/**
 * A job that runs `work` now and every `intervalMs` while the lease is held, one run at a
 * time; stopping waits for a run in progress.
 */
export function repeatWhileHeld(intervalMs: number, work: () => Promise<void>, logger: Logger, what: string): LeaseJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let active = false;
  const run = () => {
    running = work()
      .catch((err: unknown) => logger.error({ err }, `${what} failed; trying again`))
      .finally(() => {
        running = undefined;
        if (active) {
          timer = setTimeout(run, intervalMs);
          timer.unref?.();
        }
      });
  };
  return {
    start() {
      active = true;
      run();
    },
    async stop() {
      active = false;
      clearTimeout(timer);
      await running;
    },
  };
}

function lockKey(name: string): string {
  return `lpb:${name}`;
}
