import { afterEach, describe, expect, it, vi } from "vitest";
import { DomainError } from "../../shared/errors.ts";
import { defaultMaxConcurrentSyncs, defaultMaxSyncWaitMs, SyncLimiter } from "../../server/socket/sync-limiter.ts";

/** A task that runs until released, recording when it started. */
function gate() {
  let open!: () => void;
  const released = new Promise<void>((r) => (open = r));
  return { released, open };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("the sync admission limiter", () => {
  it("runs at most `max` at once, queues the rest in order and fails none", async () => {
    const limiter = new SyncLimiter(3);
    const gates = Array.from({ length: 10 }, gate);
    const started: number[] = [];
    const results = gates.map((g, i) =>
      limiter.run(async () => {
        started.push(i);
        await g.released;
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1, 2]);
    expect(limiter.stats).toEqual({ running: 3, queued: 7, peak: 3 });
    gates[1]!.open();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const g of gates) g.open();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(limiter.stats).toEqual({ running: 0, queued: 0, peak: 3 });
  });

  it("a failing task frees its slot and its error reaches the caller", async () => {
    const limiter = new SyncLimiter(1);
    const failed = limiter.run(() => Promise.reject(new Error("boom")));
    const next = limiter.run(async () => "next");
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe("next");
    expect(limiter.stats.running).toBe(0);
  });

  it("skips a queued task whose requester left, with UNAVAILABLE, without running it", async () => {
    const limiter = new SyncLimiter(1);
    const g = gate();
    const first = limiter.run(() => g.released);
    let connected = true;
    let ran = false;
    const queued = limiter.run(
      async () => {
        ran = true;
      },
      { stillWanted: () => connected },
    );
    connected = false;
    g.open();
    await first;
    const err = await queued.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: "UNAVAILABLE" });
    expect(ran).toBe(false);
    expect(limiter.stats).toMatchObject({ running: 0, queued: 0 });
  });

  it("defaults to 8 at once and 15 s of waiting", () => {
    expect(new SyncLimiter().max).toBe(defaultMaxConcurrentSyncs);
    expect(defaultMaxConcurrentSyncs).toBe(8);
    expect(new SyncLimiter(3)).toMatchObject({ max: 3, maxWaitMs: defaultMaxSyncWaitMs });
    expect(defaultMaxSyncWaitMs).toBe(15_000);
  });

  it.each([0, -1, 1.5, NaN, Infinity])("refuses a limit of %s", (max) => {
    expect(() => new SyncLimiter(max)).toThrow(RangeError);
  });

  it.each([0, -1, NaN, Infinity])("refuses a longest wait of %s", (maxWaitMs) => {
    expect(() => new SyncLimiter({ maxWaitMs })).toThrow(RangeError);
  });
});

/** What a run settled with: its value, or the error's code and message. */
function outcome<T>(run: Promise<T>) {
  const seen: { value?: T; error?: { code: string; message: string } } = {};
  const settled = run.then(
    (value) => void (seen.value = value),
    (err: unknown) => {
      if (!(err instanceof DomainError)) throw err;
      seen.error = { code: err.code, message: err.message };
    },
  );
  return { seen, settled };
}

describe("sync lanes (one socket's joins and resyncs)", () => {
  it("runs a lane's syncs one at a time in order of arrival, while other lanes use the free slots", async () => {
    const limiter = new SyncLimiter(4);
    const gates = [gate(), gate(), gate()];
    const log: string[] = [];
    const task = (name: string, g: ReturnType<typeof gate>) => async () => {
      log.push(`start ${name}`);
      await g.released;
      log.push(`end ${name}`);
      return name;
    };
    const first = limiter.run(task("a1", gates[0]!), { lane: "a" });
    const second = limiter.run(task("a2", gates[1]!), { lane: "a" });
    const other = limiter.run(task("b1", gates[2]!), { lane: "b" });
    await tick();
    expect(log).toEqual(["start a1", "start b1"]);
    expect(limiter.stats).toEqual({ running: 2, queued: 1, peak: 2 });
    gates[1]!.open();
    await tick();
    // a2's work may finish early; it still starts only after a1 has ended.
    expect(log).toEqual(["start a1", "start b1"]);
    gates[0]!.open();
    expect(await first).toBe("a1");
    expect(await second).toBe("a2");
    expect(log.indexOf("start a2")).toBeGreaterThan(log.indexOf("end a1"));
    gates[2]!.open();
    expect(await other).toBe("b1");
    expect(limiter.stats).toEqual({ running: 0, queued: 0, peak: 2 });
  });

  it("keeps one waiting sync per lane: a newer one replaces it, and the replaced one is refused without running", async () => {
    const limiter = new SyncLimiter(1);
    const g = gate();
    const ran: string[] = [];
    const running = limiter.run(async () => {
      ran.push("running");
      await g.released;
    }, { lane: "socket-1" });
    const older = outcome(limiter.run(async () => void ran.push("older"), { lane: "socket-1" }));
    const otherLane = limiter.run(async () => void ran.push("other lane"), { lane: "socket-2" });
    const newer = limiter.run(async () => void ran.push("newer"), { lane: "socket-1" });
    await older.settled;
    expect(older.seen.error).toEqual({ code: "UNAVAILABLE", message: "Superseded by a newer request from this connection" });
    expect(limiter.stats).toMatchObject({ running: 1, queued: 2 });
    g.open();
    await Promise.all([running, otherLane, newer]);
    // The replaced one kept no place: the newer one took its lane, the other lane its own turn.
    expect(ran).toEqual(["running", "other lane", "newer"]);
    expect(limiter.stats).toEqual({ running: 0, queued: 0, peak: 1 });
  });

  it("lets a sync without a lane queue next to a lane's waiting one", async () => {
    const limiter = new SyncLimiter(1);
    const g = gate();
    const running = limiter.run(() => g.released, { lane: "socket-1" });
    const laneless = [limiter.run(async () => 1), limiter.run(async () => 2)];
    const waiting = limiter.run(async () => 3, { lane: "socket-1" });
    expect(limiter.stats.queued).toBe(3);
    g.open();
    await running;
    expect(await Promise.all([...laneless, waiting])).toEqual([1, 2, 3]);
  });
});

describe("the longest wait", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("refuses a sync still waiting after maxWaitMs, clearly, without running it, and frees its place", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const limiter = new SyncLimiter({ max: 1, maxWaitMs: 15_000 });
    const g = gate();
    let ran = false;
    const running = limiter.run(() => g.released, { lane: "socket-1" });
    const waiting = outcome(
      limiter.run(
        async () => {
          ran = true;
        },
        { lane: "socket-2" },
      ),
    );
    vi.advanceTimersByTime(14_999);
    await tick();
    expect(waiting.seen).toEqual({});
    vi.advanceTimersByTime(1);
    await waiting.settled;
    expect(waiting.seen.error).toEqual({
      code: "UNAVAILABLE",
      message: "The server is busy: the sync waited over 15 s for its turn; try again",
    });
    expect(limiter.stats).toMatchObject({ running: 1, queued: 0 });
    // The same lane may ask again; the retry waits afresh and runs when the slot frees.
    const retry = limiter.run(async () => "retried", { lane: "socket-2" });
    g.open();
    await running;
    expect(await retry).toBe("retried");
    expect(ran).toBe(false);
    expect(limiter.stats).toMatchObject({ running: 0, queued: 0 });
  });

  it("does not time out a sync once it runs, however long it takes", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const limiter = new SyncLimiter({ max: 1, maxWaitMs: 100 });
    const first = gate();
    const second = gate();
    const a = limiter.run(() => first.released.then(() => "a"));
    const b = outcome(limiter.run(() => second.released.then(() => "b")));
    vi.advanceTimersByTime(50);
    first.open();
    await a;
    await tick();
    vi.advanceTimersByTime(1_000);
    second.open();
    await b.settled;
    expect(b.seen).toEqual({ value: "b" });
  });
});
