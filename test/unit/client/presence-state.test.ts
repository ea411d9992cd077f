import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BoardPresenceState, type PresenceBoard } from "../../../client/src/lib/presence.svelte.ts";
import type { Ack } from "../../../shared/errors.ts";
import type { BoardPresence, PresenceEntry } from "../../../shared/presence.ts";

/** The slice of BoardState that presence uses, driven by hand. */
class FakeBoard {
  boardId: string | null = "b1";
  sent: Array<{ payload: { boardId: string; activity: unknown }; answer: (res: Ack<BoardPresence>) => void; fail: () => void }> = [];
  listeners: Array<(p: BoardPresence) => void> = [];
  synced: Array<(kind: "snapshot" | "resync") => void> = [];
  onBroadcast(_event: string, fn: (p: BoardPresence) => void) {
    this.listeners.push(fn);
    return () => (this.listeners = this.listeners.filter((f) => f !== fn));
  }
  onSynced(fn: (kind: "snapshot" | "resync") => void) {
    this.synced.push(fn);
    return () => (this.synced = this.synced.filter((f) => f !== fn));
  }
  request<T>(_event: string, payload: unknown): Promise<Ack<T>> {
    return new Promise((resolve, reject) => {
      this.sent.push({
        payload: payload as { boardId: string; activity: unknown },
        answer: (res) => resolve(res as unknown as Ack<T>),
        fail: () => reject(new Error("offline")),
      });
    });
  }
  broadcast(p: BoardPresence) {
    for (const f of this.listeners) f(p);
  }
  sync(kind: "snapshot" | "resync" = "snapshot") {
    for (const f of this.synced) f(kind);
  }
}

const entry = (userId: string, activities: PresenceEntry["activities"] = []): PresenceEntry => ({
  userId,
  name: userId.toUpperCase(),
  role: "admin",
  connections: 1,
  activities,
});

let board: FakeBoard;
let presence: BoardPresenceState;
beforeEach(() => {
  vi.useFakeTimers();
  board = new FakeBoard();
  presence = new BoardPresenceState(board as unknown as PresenceBoard, { userId: "me", debounceMs: 100 }).start();
});
afterEach(() => {
  presence.stop();
  vi.useRealTimers();
});

describe("BoardPresenceState", () => {
  it("shows the board's presence, others first, and ignores another board's", () => {
    board.broadcast({ boardId: "b1", viewers: [entry("me"), entry("mia", [{ leadId: "l1", kind: "drag" }])] });
    expect(presence.viewers.map((v) => [v.userId, v.self])).toEqual([["mia", false], ["me", true]]);
    expect(presence.others.map((v) => v.userId)).toEqual(["mia"]);
    expect(presence.holdersOf("l1")).toEqual([{ userId: "mia", name: "MIA", kind: "drag" }]);
    expect(presence.holdersOf("l2")).toEqual([]);
    board.broadcast({ boardId: "other", viewers: [] });
    expect(presence.viewers).toHaveLength(2);
  });

  it("never lists the signed-in user as holding a lead", () => {
    board.broadcast({ boardId: "b1", viewers: [entry("me", [{ leadId: "l1", kind: "open" }])] });
    expect(presence.holdersOf("l1")).toEqual([]);
  });

  it("debounces changes into one presence:set with the latest activity; a drag wins over the open drawer", () => {
    presence.open("l1");
    presence.drag("l2");
    vi.advanceTimersByTime(99);
    expect(board.sent).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(board.sent.map((s) => s.payload)).toEqual([{ boardId: "b1", activity: { leadId: "l2", kind: "drag" } }]);
    presence.drag(null);
    vi.advanceTimersByTime(100);
    expect(board.sent.at(-1)!.payload.activity).toEqual({ leadId: "l1", kind: "open" });
    // Nothing changed: nothing sent.
    presence.open("l1");
    vi.advanceTimersByTime(100);
    expect(board.sent).toHaveLength(2);
  });

  it("takes the ack's presence", async () => {
    presence.open("l1");
    vi.advanceTimersByTime(100);
    board.sent[0]!.answer({ ok: true, data: { boardId: "b1", viewers: [entry("leo")] } });
    await vi.runAllTimersAsync();
    expect(presence.viewers.map((v) => v.userId)).toEqual(["leo"]);
  });

  it("announces the activity again after every sync, at once, since the server forgot it", async () => {
    presence.open("l1");
    vi.advanceTimersByTime(100);
    expect(board.sent).toHaveLength(1);
    board.sync("resync");
    expect(board.sent).toHaveLength(2);
    expect(board.sent[1]!.payload).toEqual({ boardId: "b1", activity: { leadId: "l1", kind: "open" } });
  });

  it("sends again after a failed send, and clears the viewers when the board changes", async () => {
    board.broadcast({ boardId: "b1", viewers: [entry("mia")] });
    presence.open("l1");
    vi.advanceTimersByTime(100);
    board.sent[0]!.fail();
    await vi.runAllTimersAsync();
    board.boardId = "b2";
    board.sync("snapshot");
    expect(presence.viewers).toEqual([]);
    expect(board.sent.at(-1)!.payload).toEqual({ boardId: "b2", activity: { leadId: "l1", kind: "open" } });
  });

  it("sends nothing before the board is known", () => {
    board.boardId = null;
    presence.open("l1");
    vi.advanceTimersByTime(100);
    expect(board.sent).toHaveLength(0);
  });
});
