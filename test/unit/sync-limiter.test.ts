import { describe, expect, it } from "vitest";
import { DomainError } from "../../shared/errors.ts";
import { defaultMaxConcurrentSyncs, SyncLimiter } from "../../server/socket/sync-limiter.ts";

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
      () => connected,
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

  it("defaults to 8", () => {
    expect(new SyncLimiter().max).toBe(defaultMaxConcurrentSyncs);
    expect(defaultMaxConcurrentSyncs).toBe(8);
  });

  it.each([0, -1, 1.5, NaN, Infinity])("refuses a limit of %s", (max) => {
    expect(() => new SyncLimiter(max)).toThrow(RangeError);
  });
});
