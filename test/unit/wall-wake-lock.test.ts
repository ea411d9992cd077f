import { describe, expect, it } from "vitest";
import { WakeLockKeeper, type WakeLockHost } from "../../client/src/lib/wall/wake-lock.ts";

/** A browser's wake lock and page visibility, driven by the test. */
class FakeHost implements WakeLockHost {
  visible: DocumentVisibilityState = "visible";
  requests = 0;
  refuse: Error | null = null;
  logs: string[] = [];
  sentinels: FakeSentinel[] = [];
  #listeners = new Set<() => void>();
  wakeLock?: WakeLockHost["wakeLock"] = {
    request: async () => {
      this.requests++;
      if (this.refuse) throw this.refuse;
      const s = new FakeSentinel();
      this.sentinels.push(s);
      return s;
    },
  };
  visibilityState = () => this.visible;
  onVisibilityChange(fn: () => void) {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
  log = (m: string) => void this.logs.push(m);
  /** The page is hidden (the browser releases the lock) or shown again. */
  show(state: DocumentVisibilityState) {
    this.visible = state;
    if (state === "hidden") for (const s of this.sentinels) s.releaseByBrowser();
    for (const fn of this.#listeners) fn();
  }
  get listeners() {
    return this.#listeners.size;
  }
}

class FakeSentinel {
  released = false;
  #onRelease: Array<() => void> = [];
  async release() {
    this.releaseByBrowser();
  }
  addEventListener(_type: "release", fn: () => void) {
    this.#onRelease.push(fn);
  }
  releaseByBrowser() {
    if (this.released) return;
    this.released = true;
    for (const fn of this.#onRelease) fn();
  }
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe("the screen wake lock", () => {
  it("is held from the start, released when the page is hidden, and asked for again when it is shown", async () => {
    const host = new FakeHost();
    const keeper = new WakeLockKeeper(host);
    keeper.start();
    await settle();
    expect(keeper.held).toBe(true);
    expect(host.requests).toBe(1);
    host.show("hidden");
    await settle();
    expect(keeper.held).toBe(false);
    expect(host.requests).toBe(1);
    host.show("visible");
    await settle();
    expect(keeper.held).toBe(true);
    expect(host.requests).toBe(2);
    // Shown again while held: nothing more to ask.
    host.show("visible");
    await settle();
    expect(host.requests).toBe(2);
    keeper.stop();
    expect(keeper.held).toBe(false);
    expect(host.sentinels.every((s) => s.released)).toBe(true);
    expect(host.listeners).toBe(0);
  });

  it("where the API is missing, the wall works on and says so once", async () => {
    const host = new FakeHost();
    delete host.wakeLock;
    const keeper = new WakeLockKeeper(host);
    keeper.start();
    host.show("hidden");
    host.show("visible");
    host.show("visible");
    await settle();
    expect(keeper.held).toBe(false);
    expect(host.logs).toHaveLength(1);
    expect(host.logs[0]).toMatch(/not supported/);
    keeper.stop();
  });

  it("a refusal is logged once, never thrown, and retried the next time the page is shown", async () => {
    const host = new FakeHost();
    host.refuse = new Error("NotAllowedError: battery saver");
    const keeper = new WakeLockKeeper(host);
    keeper.start();
    await settle();
    host.show("visible");
    await settle();
    expect(keeper.held).toBe(false);
    expect(host.requests).toBe(2);
    expect(host.logs).toHaveLength(1);
    host.refuse = null;
    host.show("visible");
    await settle();
    expect(keeper.held).toBe(true);
    keeper.stop();
  });

  it("a hidden page does not ask (the browser would refuse); a lock granted after stop is given back", async () => {
    const host = new FakeHost();
    host.visible = "hidden";
    const keeper = new WakeLockKeeper(host);
    keeper.start();
    await settle();
    expect(host.requests).toBe(0);
    host.visible = "visible";
    const late = new WakeLockKeeper(host);
    late.start();
    late.stop();
    await settle();
    expect(host.sentinels.at(-1)?.released).toBe(true);
    expect(late.held).toBe(false);
    keeper.stop();
  });
});
