import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  backoffCeiling,
  connectionStatus,
  defaultBackoff,
  delayFor,
  offlineAfterAttempts,
  Reconnector,
  secondsUntil,
  stableAfterMs,
  type BackoffPolicy,
  type ScheduledRetry,
} from "../../../client/src/lib/reconnect.ts";

/** mulberry32: a small seeded generator, so the distribution checks are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const policy: BackoffPolicy = { baseMs: 500, factor: 2, capMs: 30_000, floorMs: 100 };

describe("the backoff policy", () => {
  it.each([
    [0, 500],
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [5, 16_000],
    [6, 30_000],
    [7, 30_000],
    [50, 30_000],
    [10_000, 30_000],
    [Infinity, 30_000],
  ])("after %s failed attempts the window ends at %s ms", (attempt, ceiling) => {
    expect(backoffCeiling(attempt, policy)).toBe(ceiling);
    expect(delayFor(attempt, () => 0, policy)).toBe(policy.floorMs);
    expect(delayFor(attempt, () => 0.999999, policy)).toBe(ceiling);
  });

  it("never goes below the floor or above the cap, whatever the generator says", () => {
    for (const r of [-5, -0.1, 0, 0.5, 1, 1.5, NaN, Infinity, -Infinity]) {
      for (const attempt of [0, 3, 40]) {
        const d = delayFor(attempt, () => r, policy);
        expect(d).toBeGreaterThanOrEqual(policy.floorMs);
        expect(d).toBeLessThanOrEqual(backoffCeiling(attempt, policy));
      }
    }
  });

  it("treats a negative or non-numeric attempt as the first", () => {
    expect(backoffCeiling(-3, policy)).toBe(500);
    expect(backoffCeiling(NaN, policy)).toBe(500);
    expect(backoffCeiling(1.7, policy)).toBe(1_000);
  });

  it("a floor above the cap wins: a retry is never sooner than the floor", () => {
    const odd: BackoffPolicy = { baseMs: 10, factor: 2, capMs: 50, floorMs: 200 };
    expect(delayFor(0, () => 0.5, odd)).toBe(200);
    expect(delayFor(9, () => 0.99, odd)).toBe(200);
  });

  it("the default policy starts within a second and caps at 30 s", () => {
    expect(defaultBackoff).toMatchObject({ capMs: 30_000 });
    expect(backoffCeiling(0)).toBe(defaultBackoff.baseMs);
    expect(backoffCeiling(100)).toBe(30_000);
    expect(defaultBackoff.floorMs).toBeGreaterThan(0);
  });

  it("is full jitter: uniform over [floor, ceiling] (seeded)", () => {
    const random = seeded(42);
    for (const attempt of [0, 3, 8]) {
      const ceiling = backoffCeiling(attempt, policy);
      const n = 20_000;
      const buckets = new Array<number>(10).fill(0);
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const d = delayFor(attempt, random, policy);
        sum += d;
        const b = Math.min(9, Math.floor(((d - policy.floorMs) / (ceiling - policy.floorMs)) * 10));
        buckets[b]!++;
      }
      const mean = sum / n;
      const expected = (policy.floorMs + ceiling) / 2;
      expect(Math.abs(mean - expected) / expected).toBeLessThan(0.02);
      // Each tenth of the window holds about a tenth of the retries: no clumping anywhere.
      for (const count of buckets) expect(Math.abs(count / n - 0.1)).toBeLessThan(0.015);
    }
  });
});

describe("the connection status", () => {
  const base = { connected: false, fatal: false, browserOffline: false, attempt: 0, everConnected: true };
  it.each([
    [{ ...base, connected: true }, "online"],
    [{ ...base, connected: true, browserOffline: true }, "online"],
    [{ ...base, everConnected: false }, "connecting"],
    [{ ...base }, "reconnecting"],
    [{ ...base, attempt: offlineAfterAttempts - 1 }, "reconnecting"],
    [{ ...base, attempt: offlineAfterAttempts }, "offline"],
    [{ ...base, everConnected: false, attempt: offlineAfterAttempts }, "offline"],
    [{ ...base, browserOffline: true }, "offline"],
    [{ ...base, fatal: true }, "offline"],
  ] as const)("%o is %s", (facts, status) => {
    expect(connectionStatus(facts)).toBe(status);
  });

  it("counts down in whole seconds, never below zero", () => {
    expect(secondsUntil(null, 1_000)).toBeNull();
    expect(secondsUntil(5_000, 1_000)).toBe(4);
    expect(secondsUntil(5_000, 1_001)).toBe(4);
    expect(secondsUntil(5_000, 4_999)).toBe(1);
    expect(secondsUntil(5_000, 5_000)).toBe(0);
    expect(secondsUntil(5_000, 9_000)).toBe(0);
  });
});

// Handlers take whatever their event passes; `never[]` lets each typed handler in.
type Handler = (...args: never[]) => void;
class FakeSocket {
  connected = false;
  connects = 0;
  disconnects = 0;
  handlers = new Map<string, Handler[]>();
  on(ev: string, h: Handler) {
    (this.handlers.get(ev) ?? this.handlers.set(ev, []).get(ev)!).push(h);
    return this;
  }
  fire(ev: string, ...args: unknown[]) {
    for (const h of this.handlers.get(ev) ?? []) h(...(args as never[]));
  }
  connect() {
    this.connects++;
    return this;
  }
  disconnect() {
    this.disconnects++;
    this.connected = false;
    return this;
  }
  up() {
    this.connected = true;
    this.fire("connect");
  }
  down(reason = "transport close") {
    this.connected = false;
    this.fire("disconnect", reason);
  }
  refuse(message = "xhr poll error") {
    this.fire("connect_error", new Error(message));
  }
}

describe("the reconnect driver", () => {
  let socket: FakeSocket;
  let network: EventTarget;
  let scheduled: ScheduledRetry[];
  let fatal: Error[];
  let driver: Reconnector;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    socket = new FakeSocket();
    network = new EventTarget();
    scheduled = [];
    fatal = [];
    driver = new Reconnector(socket, {
      policy,
      random: seeded(7),
      network,
      onSchedule: (s) => scheduled.push(s),
      onFatal: (err) => fatal.push(err),
    });
    driver.start();
  });
  afterEach(() => {
    driver.stop();
    vi.useRealTimers();
  });

  it("connects at once on start", () => {
    expect(socket.connects).toBe(1);
    expect(driver.nextAttemptAt).toBeNull();
  });

  it("backs off further after each failed attempt, and resets once connected", () => {
    for (let i = 0; i < 6; i++) {
      socket.refuse();
      const last = scheduled.at(-1)!;
      expect(last).toMatchObject({ attempt: i + 1, cause: "connect_error" });
      expect(last.delayMs).toBeGreaterThanOrEqual(policy.floorMs);
      expect(last.delayMs).toBeLessThanOrEqual(backoffCeiling(i + 1, policy));
      expect(driver.nextAttemptAt).toBe(Date.now() + last.delayMs);
      const before = socket.connects;
      vi.advanceTimersByTime(last.delayMs - 1);
      expect(socket.connects).toBe(before);
      vi.advanceTimersByTime(1);
      expect(socket.connects).toBe(before + 1);
      expect(driver.nextAttemptAt).toBeNull();
    }
    expect(driver.attempt).toBe(6);
    socket.up();
    expect(driver.attempt).toBe(0);
    vi.advanceTimersByTime(stableAfterMs);
    socket.down();
    expect(scheduled.at(-1)).toMatchObject({ attempt: 0, cause: "disconnect" });
    expect(scheduled.at(-1)!.delayMs).toBeLessThanOrEqual(backoffCeiling(0, policy));
  });

  it("a connection that drops at once counts as a failure: a server that accepts and drops is backed off from", () => {
    socket.up();
    vi.advanceTimersByTime(stableAfterMs);
    for (let i = 1; i <= 5; i++) {
      socket.down();
      expect(scheduled.at(-1)).toMatchObject({ attempt: i - 1, cause: "disconnect" });
      vi.runOnlyPendingTimers();
      socket.up();
      vi.advanceTimersByTime(100);
    }
    // Each quick drop adds one: the windows keep growing instead of restarting at the first.
    expect(scheduled.map((s) => s.attempt)).toEqual([0, 1, 2, 3, 4]);
    vi.advanceTimersByTime(stableAfterMs);
    socket.down();
    expect(scheduled.at(-1)!.attempt).toBe(0);
  });

  it("retries after any kind of disconnect, including the server hanging up", () => {
    socket.up();
    for (const reason of ["io server disconnect", "ping timeout", "transport error", "transport close"]) {
      socket.down(reason);
      expect(driver.nextAttemptAt).not.toBeNull();
      vi.runOnlyPendingTimers();
      socket.up();
    }
    expect(scheduled.map((s) => s.cause)).toEqual(["disconnect", "disconnect", "disconnect", "disconnect"]);
  });

  it("a connection made otherwise cancels the pending retry", () => {
    socket.refuse();
    const connects = socket.connects;
    socket.up();
    expect(driver.nextAttemptAt).toBeNull();
    vi.runAllTimers();
    expect(socket.connects).toBe(connects);
  });

  it("retries forever: the hundredth attempt is still scheduled, at the cap", () => {
    for (let i = 0; i < 100; i++) {
      socket.refuse();
      vi.runOnlyPendingTimers();
    }
    expect(socket.connects).toBe(101);
    expect(scheduled).toHaveLength(100);
    expect(Math.max(...scheduled.map((s) => s.delayMs))).toBeLessThanOrEqual(policy.capMs);
  });

  it("stops retrying when the session is refused, until told to retry", () => {
    socket.refuse("UNAUTHENTICATED");
    expect(fatal.map((e) => e.message)).toEqual(["UNAUTHENTICATED"]);
    expect(driver.fatal?.message).toBe("UNAUTHENTICATED");
    expect(driver.nextAttemptAt).toBeNull();
    vi.runAllTimers();
    expect(socket.connects).toBe(1);
    network.dispatchEvent(new Event("online"));
    expect(driver.nextAttemptAt).toBeNull();
    driver.retryNow();
    expect(socket.connects).toBe(2);
    expect(driver.fatal).toBeNull();
  });

  it("retry now connects at once and drops the countdown", () => {
    socket.refuse();
    socket.refuse();
    expect(driver.nextAttemptAt).not.toBeNull();
    driver.retryNow();
    expect(socket.connects).toBe(2);
    expect(driver.nextAttemptAt).toBeNull();
    vi.runAllTimers();
    expect(socket.connects).toBe(2);
  });

  it("the browser coming back online brings a far retry forward, jittered", () => {
    for (let i = 0; i < 8; i++) {
      socket.refuse();
      if (i < 7) vi.runOnlyPendingTimers();
    }
    const far = driver.nextAttemptAt! - Date.now();
    network.dispatchEvent(new Event("online"));
    const soon = scheduled.at(-1)!;
    expect(soon.cause).toBe("online");
    expect(soon.delayMs).toBeLessThanOrEqual(backoffCeiling(0, policy));
    expect(soon.delayMs).toBeLessThan(far);
    // A retry that is already sooner is kept.
    network.dispatchEvent(new Event("online"));
    expect(scheduled.at(-1)).toBe(soon);
  });

  it("after stop nothing reconnects, and the socket is closed", () => {
    socket.up();
    driver.stop();
    expect(socket.disconnects).toBe(1);
    socket.down("io client disconnect");
    socket.refuse();
    network.dispatchEvent(new Event("online"));
    driver.retryNow();
    vi.runAllTimers();
    expect(socket.connects).toBe(1);
    expect(scheduled).toHaveLength(0);
  });
});
