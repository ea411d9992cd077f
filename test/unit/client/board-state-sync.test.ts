/**
 * BoardState staying in step with the server: a move's answer after its lead left the view,
 * a board or view picked offline, one sync at a time per connection, and `touched` per board.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BoardState, type BoardSocket } from "../../../client/src/lib/board.svelte.ts";
import { sameTarget, settleServerCard, syncKind } from "../../../client/src/lib/board-sync-rules.ts";
import type { BoardEvent, BoardSnapshot, BoardStage, LeadCard } from "../../../shared/board.ts";
import type { BoardView } from "../../../shared/domain/views.ts";
import { FakeBoardSocket as FakeSocket } from "../../support/fake-board-socket.ts";

// BoardState listens to the browser's online/offline events.
(globalThis as unknown as { window: EventTarget }).window = new EventTarget();


const stages: BoardStage[] = ["tp", "sales", "won"].map((key, position) => ({
  id: `s-${key}`, key, name: key, position, entryRequirements: [], gateFlag: null, salesReadyJump: false, fields: [], timeLimits: null,
}));
function card(id: string, stage: string, rank: string, version = 1): LeadCard {
  return {
    id, topic: `Lead ${id}`, contactId: "c", accountId: null, contactName: null, companyName: null, processId: "p", stageId: `s-${stage}`,
    stage, rank, version, readyForTeleprospecting: true, teleprospectingAccepted: false, salesReady: false, salesAccepted: false,
    scorable: true, ownerId: null, ownerName: null, campaign: null, formId: null, formName: null, score: null, grade: null, scores: [],
    source: "manual", isTest: false, stageEnteredAt: new Date().toISOString(), updatedAt: new Date().toISOString(),
  };
}
function snap(seq: number, leads: LeadCard[], view: BoardView = "teleprospecting_queue", boardId = "b"): BoardSnapshot {
  const columns = Object.fromEntries(stages.map((s) => [s.key, { total: leads.filter((l) => l.stage === s.key).length, complete: true }]));
  return { boardId, processId: `p-${boardId}`, processName: "P", seq, view, stages, columns, leads, serverTime: new Date().toISOString() };
}
const actor = { id: "other", name: "Mia", kind: "user" as const };
const leftView = (seq: number, leadId: string): BoardEvent => ({ boardId: "b", seq, at: "", actor, type: "lead.left_view", leadId });
const moved = (seq: number, lead: LeadCard): BoardEvent => ({ boardId: "b", seq, at: "", actor, lead, type: "lead.moved", fromStage: "tp", toStage: lead.stage });
const flush = () => new Promise((r) => setTimeout(r, 0));

let sock: FakeSocket;
let board: BoardState;
beforeEach(() => {
  sock = new FakeSocket();
  board = new BoardState({ userId: "me", onUnauthenticated: () => {}, socket: sock as unknown as BoardSocket });
  board.start();
});
afterEach(() => {
  board.stop();
  vi.useRealTimers();
});

async function joined(seq = 1, leads = [card("a", "tp", "a0"), card("b", "tp", "a1")]): Promise<void> {
  sock.up();
  sock.last("board:join").cb(null, { ok: true, data: snap(seq, leads) });
  await flush();
}

describe("a move's answer after its lead left the view", () => {
  beforeEach(() => joined());

  it("an ok ack does not put back a card whose lead.left_view came first", async () => {
    const done = board.move("b", "sales");
    expect(board.cards.get("b")?.stage).toBe("sales");
    // A telemarketer's queue does not hold sales leads: the server says so, then acks.
    sock.fire("board:event", leftView(2, "b"));
    expect(board.cards.has("b")).toBe(false);
    sock.last("lead:move").cb(null, { ok: true, data: card("b", "sales", "a0", 2) });
    await done;
    expect(board.cards.has("b")).toBe(false);
    expect(board.pending.size).toBe(0);
    expect(board.columns.get("sales")).toEqual([]);
  });

  it("a CONFLICT's current card is not put back either, nor the card as it was", async () => {
    const done = board.move("b", "sales");
    sock.fire("board:event", leftView(2, "b"));
    const details = { lead: card("b", "won", "a0", 3) };
    sock.last("lead:move").cb(null, { ok: false, error: { code: "CONFLICT", message: "Changed meanwhile", details } });
    await done;
    expect(board.cards.has("b")).toBe(false);
    expect(board.pending.size).toBe(0);
    expect(board.notices.toasts.map((t) => t.text)).toEqual(["Changed meanwhile"]);
  });

  it("a move that times out after its lead left the view leaves no ghost card", async () => {
    const done = board.move("b", "sales");
    sock.fire("board:event", leftView(2, "b"));
    sock.last("lead:move").cb(new Error("operation has timed out"));
    await done;
    expect(board.cards.has("b")).toBe(false);
    expect(board.pending.size).toBe(0);
  });

  it("an ack after a snapshot of another view that lacks the lead does not add it", async () => {
    const done = board.move("b", "sales");
    board.switchTo({ view: "sales_ready" });
    // The move's ack and the join's answer race: the snapshot (without b) lands first.
    sock.last("board:join").cb(null, { ok: true, data: snap(5, [card("z", "sales", "a0")], "sales_ready") });
    await flush();
    sock.last("lead:move").cb(null, { ok: true, data: card("b", "sales", "a1", 2) });
    await done;
    expect([...board.cards.keys()]).toEqual(["z"]);
  });

  it("an ack still confirms a card that stayed in the view, and one its event already updated", async () => {
    const first = board.move("a", "sales");
    sock.last("lead:move").cb(null, { ok: true, data: card("a", "sales", "Zz", 2) });
    await first;
    expect(board.cards.get("a")).toMatchObject({ stage: "sales", rank: "Zz", version: 2 });
    const second = board.move("b", "sales");
    sock.fire("board:event", moved(2, card("b", "sales", "b5", 3)));
    sock.last("lead:move").cb(null, { ok: true, data: card("b", "sales", "b4", 2) });
    await second;
    expect(board.cards.get("b")).toMatchObject({ rank: "b5", version: 3 });
  });
});

describe("a board or view picked while offline", () => {
  it("is joined on reconnect instead of resyncing the old one", async () => {
    await joined(3);
    sock.down();
    board.switchTo({ view: "all" });
    expect(board.target.view).toBe("all");
    sock.up();
    expect(sock.count("board:resync")).toBe(0);
    expect(sock.count("board:join")).toBe(2);
    expect(sock.last("board:join").payload).toEqual({ view: "all" });
    sock.last("board:join").cb(null, { ok: true, data: snap(9, [card("x", "won", "a0")], "all") });
    await flush();
    expect(board.view).toBe("all");
    expect([...board.cards.keys()]).toEqual(["x"]);
    // The next reconnect catches up with what is now shown.
    sock.down();
    sock.up();
    expect(sock.last("board:resync").payload).toEqual({ boardId: "b", sinceSeq: 9, view: "all" });
  });

  it("a switch refused after reconnect returns to the board shown and resyncs it", async () => {
    await joined(3);
    sock.down();
    board.switchTo({ processId: "secret" });
    sock.up();
    sock.last("board:join").cb(null, { ok: false, error: { code: "FORBIDDEN", message: "Not your process" } });
    await flush();
    expect(board.target).toEqual({});
    expect(board.notices.toasts.map((t) => t.text)).toEqual(["Not your process"]);
    expect(sock.last("board:resync").payload).toEqual({ boardId: "b", sinceSeq: 3, view: "teleprospecting_queue" });
    expect(board.joinError).toBeNull();
  });
});

describe("one join or resync at a time per connection", () => {
  it("a switch during a sync waits for its answer, then joins the target", async () => {
    await joined(1);
    sock.fire("board:event", moved(3, card("a", "sales", "a0", 2)));
    expect(sock.syncs().map((s) => s.ev)).toEqual(["board:join", "board:resync"]);
    board.switchTo({ view: "all" });
    expect(sock.syncs()).toHaveLength(2);
    sock.last("board:resync").cb(null, { ok: true, data: { events: [] } });
    await flush();
    expect(sock.syncs().map((s) => s.ev)).toEqual(["board:join", "board:resync", "board:join"]);
    expect(sock.last("board:join").payload).toEqual({ view: "all" });
  });

  /** Joined at seq 1; event 3 reveals a gap; the resync it starts times out (fake timers on). */
  async function timedOutResyncAfterGap(): Promise<void> {
    vi.useFakeTimers({ now: Date.now(), toFake: ["setTimeout", "clearTimeout", "Date"] });
    sock.up();
    sock.last("board:join").cb(null, { ok: true, data: snap(1, [card("a", "tp", "a0")]) });
    await vi.advanceTimersByTimeAsync(0);
    sock.fire("board:event", moved(3, card("a", "sales", "a0", 2)));
    sock.last("board:resync").cb(new Error("operation has timed out"));
    await vi.advanceTimersByTimeAsync(0);
  }

  it("the answer to a join the user switched away from is not loaded", async () => {
    sock.up();
    board.switchTo({ view: "sales_ready" });
    expect(sock.count("board:join")).toBe(1);
    sock.last("board:join").cb(null, { ok: true, data: snap(1, [card("a", "tp", "a0")]) });
    await flush();
    expect(board.boardId).toBeNull();
    expect(sock.count("board:join")).toBe(2);
    expect(sock.last("board:join").payload).toEqual({ view: "sales_ready" });
  });

  it("after a timed-out sync, a gap waits for the backoff instead of resyncing at once", async () => {
    await timedOutResyncAfterGap();
    sock.fire("board:event", moved(5, card("a", "won", "a0", 4)));
    expect(sock.count("board:resync")).toBe(1);
    // A switch does not go ahead of the backoff either: the server may still answer the first.
    board.switchTo({ view: "all" });
    expect(sock.syncs()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(sock.syncs().map((s) => s.ev)).toEqual(["board:join", "board:resync", "board:join"]);
    expect(sock.last("board:join").payload).toEqual({ view: "all" });
  });

  it("after a timed-out resync, the retry applies what arrived meanwhile", async () => {
    await timedOutResyncAfterGap();
    sock.fire("board:event", moved(4, card("a", "won", "a0", 4)));
    await vi.advanceTimersByTimeAsync(2_000);
    expect(sock.count("board:resync")).toBe(2);
    sock.last("board:resync").cb(null, { ok: true, data: { events: [moved(2, card("a", "tp", "a0", 1)), moved(3, card("a", "sales", "a0", 2))] } });
    await vi.advanceTimersByTimeAsync(0);
    expect(board.seq).toBe(4);
    expect(board.cards.get("a")?.stage).toBe("won");
    expect(sock.count("board:resync")).toBe(2);
  });

  it("a busy or superseded answer (UNAVAILABLE) is retried with backoff: a resync is not turned into a join, a switch is kept", async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ["setTimeout", "clearTimeout", "Date"] });
    sock.up();
    sock.last("board:join").cb(null, { ok: true, data: snap(1, [card("a", "tp", "a0")]) });
    await vi.advanceTimersByTimeAsync(0);
    const busy = { ok: false, error: { code: "UNAVAILABLE", message: "The server is busy" } };
    sock.fire("board:event", moved(3, card("a", "sales", "a0", 2)));
    sock.last("board:resync").cb(null, busy);
    await vi.advanceTimersByTimeAsync(0);
    expect(sock.syncs().map((x) => x.ev)).toEqual(["board:join", "board:resync"]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(sock.syncs().map((x) => x.ev)).toEqual(["board:join", "board:resync", "board:resync"]);
    sock.last("board:resync").cb(null, { ok: true, data: { events: [moved(2, card("a", "tp", "a0", 1)), moved(3, card("a", "sales", "a0", 2))] } });
    await vi.advanceTimersByTimeAsync(0);
    expect(board.seq).toBe(3);
    board.switchTo({ view: "all" });
    sock.last("board:join").cb(null, busy);
    await vi.advanceTimersByTimeAsync(0);
    expect(board.target.view).toBe("all");
    await vi.advanceTimersByTimeAsync(2_000);
    expect(sock.last("board:join").payload).toEqual({ view: "all" });
    expect(sock.count("board:join")).toBe(3);
  });

  it("a refused first join does not hold back a switch to the defaults", async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ["setTimeout", "clearTimeout", "Date"] });
    board.switchTo({ processId: "gone" });
    sock.up();
    sock.last("board:join").cb(null, { ok: false, error: { code: "NOT_FOUND", message: "No such process" } });
    await vi.advanceTimersByTimeAsync(0);
    expect(board.joinError).toBe("No such process");
    board.switchTo({ processId: undefined });
    expect(sock.count("board:join")).toBe(2);
    expect(sock.last("board:join").payload).toEqual({ processId: undefined });
    // The backoff retry of the refused join was dropped: no third join.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sock.count("board:join")).toBe(2);
  });
});

describe("touched", () => {
  it("is cleared by a snapshot of another view, kept by a resync of the same one", async () => {
    await joined(1);
    sock.fire("board:event", moved(2, card("a", "sales", "a0", 2)));
    expect(board.touched.get("a")).toBe(2);
    sock.down();
    sock.up();
    sock.last("board:resync").cb(null, { ok: true, data: { snapshot: snap(7, [card("a", "sales", "a0", 2)]) } });
    await flush();
    expect(board.touched.get("a")).toBe(2);
    board.switchTo({ view: "all" });
    sock.last("board:join").cb(null, { ok: true, data: snap(8, [card("a", "sales", "a0", 2)], "all") });
    await flush();
    expect(board.touched.size).toBe(0);
  });

  it("is cleared by a snapshot of another board", async () => {
    await joined(1);
    sock.fire("board:event", leftView(2, "b"));
    expect(board.touched.has("b")).toBe(true);
    board.switchTo({ processId: "p-c" });
    sock.last("board:join").cb(null, { ok: true, data: snap(1, [], "teleprospecting_queue", "c") });
    await flush();
    expect(board.touched.size).toBe(0);
  });
});

describe("sync rules", () => {
  it("sameTarget treats an absent part like an undefined one", () => {
    expect(sameTarget({}, { processId: undefined })).toBe(true);
    expect(sameTarget({ view: "all" }, {})).toBe(false);
  });
  it("syncKind joins before the first snapshot and after a switch, else resyncs", () => {
    expect(syncKind(null, {})).toBe("join");
    expect(syncKind({ view: "all" }, { view: "my_leads" })).toBe("join");
    expect(syncKind({ view: "all" }, { view: "all" })).toBe("resync");
  });
  it("settleServerCard takes a newer card only while it is on the board", () => {
    const cards = new Map([["a", card("a", "tp", "a0", 2)]]);
    expect(settleServerCard(cards, card("b", "tp", "a0", 1))).toBe(false);
    expect(cards.has("b")).toBe(false);
    expect(settleServerCard(cards, card("a", "sales", "a0", 1))).toBe(false);
    expect(settleServerCard(cards, card("a", "sales", "a0", 3))).toBe(true);
    expect(cards.get("a")?.stage).toBe("sales");
  });
});
