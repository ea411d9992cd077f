import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BoardState, type BoardSocket } from "../../../client/src/lib/board.svelte.ts";
import { dropNeighbours, provisionalRank, isSamePlace, formatAge, seqDecision, planMove } from "../../../client/src/lib/board-logic.ts";
import type { BoardEvent, BoardSnapshot, LeadCard, BoardStage } from "../../../shared/board.ts";
import { FakeBoardSocket as FakeSocket } from "../../support/fake-board-socket.ts";

// BoardState listens to the browser's online/offline events.
(globalThis as unknown as { window: EventTarget }).window = new EventTarget();


const stages: BoardStage[] = [
  { id: "s0", key: "inquiry", name: "Inquiry", position: 0, entryRequirements: [], gateFlag: null, salesReadyJump: false, fields: [], timeLimits: null },
  { id: "s1", key: "amq", name: "AMQ", position: 1, entryRequirements: ["has_parent"], gateFlag: null, salesReadyJump: false, fields: [], timeLimits: null },
  { id: "s2", key: "sales", name: "Sales", position: 2, entryRequirements: ["has_parent", "sales_ready"], gateFlag: null, salesReadyJump: false, fields: [], timeLimits: null },
];
function card(id: string, stage: string, rank: string, extra: Partial<LeadCard> = {}): LeadCard {
  const st = stages.find((s) => s.key === stage)!;
  return { id, topic: "T " + id, contactId: "c", accountId: null, contactName: "N", companyName: null, processId: "p", stageId: st.id, stage, rank, version: 1,
    readyForTeleprospecting: false, teleprospectingAccepted: false, salesReady: false, salesAccepted: false, scorable: true, ownerId: null, ownerName: null, campaign: null, formId: null, formName: null, score: null, grade: null,
    source: "form", isTest: false, stageEnteredAt: new Date().toISOString(), updatedAt: new Date().toISOString(), ...extra } as LeadCard;
}
function snap(seq: number, leads: LeadCard[]): BoardSnapshot {
  // Every column complete: these boards fit in their first pages (paging: board-state-pages.test.ts).
  const columns = Object.fromEntries(stages.map((s) => [s.key, { total: leads.filter((l) => l.stage === s.key).length, complete: true }]));
  return { boardId: "b", processId: "p", processName: "P", seq, view: "all", stages, columns, leads, serverTime: new Date().toISOString() };
}
function ev(seq: number, lead: LeadCard, actorId = "other"): BoardEvent {
  return { boardId: "b", seq, at: "", actor: { id: actorId, name: "Mia", kind: "user" }, lead, type: "lead.moved", fromStage: "x", toStage: lead.stage };
}
const flush = () => new Promise((r) => setTimeout(r, 0));
const order = (b: BoardState, stage: string) => (b.columns.get(stage) ?? []).map((c) => c.id);

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

describe("sync", () => {
  it("buffers events before join ack and applies only newer ones", async () => {
    sock.up();
    expect(sock.last("board:join")).toBeTruthy();
    sock.fire("board:event", ev(5, card("a", "amq", "a1", { version: 2 })));
    sock.fire("board:event", ev(6, card("b", "amq", "a2", { version: 2 })));
    sock.last("board:join").cb(null, { ok: true, data: snap(5, [card("a", "inquiry", "a0"), card("b", "inquiry", "a1")]) });
    await flush();
    expect(board.seq).toBe(6);
    expect(order(board, "inquiry")).toEqual(["a"]);
    expect(order(board, "amq")).toEqual(["b"]);
    expect(board.notices.highlights.get("b")?.text).toBe("moved by Mia");
  });
  it("ignores stale, resyncs on gap, buffers during resync", async () => {
    sock.up();
    sock.last("board:join").cb(null, { ok: true, data: snap(1, [card("a", "inquiry", "a0")]) });
    await flush();
    sock.fire("board:event", ev(1, card("a", "amq", "a0", { version: 9 })));
    expect(board.cards.get("a")!.stage).toBe("inquiry");
    sock.fire("board:event", ev(4, card("a", "sales", "a0", { version: 4 })));
    const rs = sock.last("board:resync");
    expect(rs.payload).toEqual({ boardId: "b", sinceSeq: 1, view: "all" });
    sock.fire("board:event", ev(5, card("x", "inquiry", "a5")));
    expect(board.seq).toBe(1);
    rs.cb(null, { ok: true, data: { events: [ev(2, card("a", "amq", "a0", { version: 2 })), ev(3, card("y", "inquiry", "a3"))] } });
    await flush();
    expect(board.seq).toBe(5);
    expect(board.cards.get("a")!.stage).toBe("sales");
    expect(board.cards.size).toBe(3);
    expect(sock.count("board:resync")).toBe(1);
  });
  it("on reconnect resyncs from its last seq instead of joining, keeping cards", async () => {
    sock.up();
    sock.last("board:join").cb(null, { ok: true, data: snap(3, [card("a", "inquiry", "a0")]) });
    await flush();
    sock.down();
    expect(board.status).toBe("reconnecting");
    expect(board.cards.size).toBe(1);
    sock.up();
    expect(sock.count("board:join")).toBe(1);
    expect(sock.last("board:resync").payload).toEqual({ boardId: "b", sinceSeq: 3, view: "all" });
    // An event broadcast while the resync is in flight waits for it, then applies in order.
    sock.fire("board:event", ev(5, card("b", "amq", "a1", { version: 2 })));
    sock.last("board:resync").cb(null, { ok: true, data: { events: [ev(4, card("b", "inquiry", "a1"))] } });
    await flush();
    expect(sock.count("board:resync")).toBe(1);
    expect(board.seq).toBe(5);
    expect(board.cards.get("b")!.stage).toBe("amq");
    expect(board.status).toBe("online");
  });
  it("replaces the cards when a resync answers with a snapshot", async () => {
    sock.up();
    sock.last("board:join").cb(null, { ok: true, data: snap(3, [card("a", "inquiry", "a0")]) });
    await flush();
    sock.down();
    sock.up();
    sock.last("board:resync").cb(null, { ok: true, data: { snapshot: snap(900, [card("c", "inquiry", "a0")]) } });
    await flush();
    expect(board.seq).toBe(900);
    expect([...board.cards.keys()]).toEqual(["c"]);
  });
});

describe("connection", () => {
  it("starts connecting, counts down after a failed first attempt, and goes online", () => {
    expect(board.status).toBe("connecting");
    expect(sock.connects).toBe(1);
    sock.refuse();
    expect(board.status).toBe("connecting");
    expect(board.reconnectAt).toBeGreaterThan(Date.now());
    sock.up();
    expect(board.status).toBe("online");
    expect(board.reconnectAt).toBeNull();
  });

  it("keeps the board while reconnecting, turns offline after several failures, and still retries", async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ["setTimeout", "clearTimeout", "Date"] });
    try {
      sock.up();
      sock.last("board:join").cb(null, { ok: true, data: snap(3, [card("a", "inquiry", "a0")]) });
      await vi.advanceTimersByTimeAsync(0);
      sock.down();
      expect(board.status).toBe("reconnecting");
      // A connection that drops at once counts as a failed attempt: the first retry's window is [250 ms, 2 s].
      expect(board.reconnectAt! - Date.now()).toBeLessThanOrEqual(2000);
      vi.advanceTimersByTime(2000);
      expect(sock.connects).toBe(2);
      for (let i = 0; i < 3; i++) {
        sock.refuse();
        vi.advanceTimersByTime(30_000);
      }
      expect(board.status).toBe("offline");
      expect(sock.connects).toBe(5);
      expect(board.cards.size).toBe(1);
      expect(board.lastUpdated).not.toBeNull();
      sock.refuse();
      board.retryNow();
      expect(sock.connects).toBe(6);
      sock.up();
      expect(board.status).toBe("online");
      expect(sock.last("board:resync").payload).toEqual({ boardId: "b", sinceSeq: 3, view: "all" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("a failed resync is retried after a backoff, not at once", async () => {
    vi.useFakeTimers({ now: Date.now(), toFake: ["setTimeout", "clearTimeout", "Date"] });
    try {
      sock.up();
      sock.last("board:join").cb(null, { ok: true, data: snap(3, [card("a", "inquiry", "a0")]) });
      await vi.advanceTimersByTimeAsync(0);
      sock.fire("board:event", ev(5, card("a", "amq", "a0", { version: 3 })));
      sock.last("board:resync").cb(new Error("operation has timed out"));
      await vi.advanceTimersByTimeAsync(0);
      expect(sock.count("board:resync")).toBe(1);
      await vi.advanceTimersByTimeAsync(1000);
      expect(sock.count("board:resync")).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("the browser going offline shows offline at once", () => {
    sock.up();
    sock.down();
    vi.stubGlobal("navigator", { onLine: false });
    try {
      (globalThis as unknown as { window: EventTarget }).window.dispatchEvent(new Event("offline"));
      expect(board.status).toBe("offline");
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("a refused session goes to the login page and stops retrying", () => {
    board.stop();
    sock = new FakeSocket();
    let unauthenticated = 0;
    board = new BoardState({ userId: "me", onUnauthenticated: () => unauthenticated++, socket: sock as unknown as BoardSocket });
    board.start();
    sock.refuse("UNAUTHENTICATED");
    expect(unauthenticated).toBe(1);
    expect(board.status).toBe("offline");
    expect(board.reconnectAt).toBeNull();
  });
});

describe("moves", () => {
  beforeEach(async () => {
    sock.up();
    sock.last("board:join").cb(null, { ok: true, data: snap(1, [card("a", "inquiry", "a0"), card("b", "inquiry", "a1"), card("n", "inquiry", "a2", { contactId: null }), card("c", "amq", "a0")]) });
    await flush();
  });
  it("optimistic then confirmed", async () => {
    void board.move("b", "amq", undefined, "c");
    expect(order(board, "amq")).toEqual(["b", "c"]);
    expect(board.pending.has("b")).toBe(true);
    const m = sock.last("lead:move");
    expect(m.payload).toEqual({ leadId: "b", toStage: "amq", expectedVersion: 1, beforeId: "c" });
    expect(m.ms).toBe(8000);
    m.cb(null, { ok: true, data: card("b", "amq", "Zz", { version: 2 }) });
    await flush();
    return Promise.resolve().then(() => {
      expect(board.pending.has("b")).toBe(false);
      expect(board.cards.get("b")!.rank).toBe("Zz");
      // own event: no highlight
      sock.fire("board:event", ev(2, card("b", "amq", "Zz", { version: 2 }), "me"));
      expect(board.notices.highlights.has("b")).toBe(false);
    });
  });
  it("error reverts exactly and toasts; conflict takes details.lead", async () => {
    void board.move("a", "amq");
    expect(order(board, "amq")).toEqual(["c", "a"]);
    sock.last("lead:move").cb(null, { ok: false, error: { code: "FORBIDDEN", message: "nope" } });
    await flush();
    await Promise.resolve();
    expect(board.cards.get("a")!.rank).toBe("a0");
    expect(order(board, "inquiry")).toEqual(["a", "b", "n"]);
    expect(board.notices.toasts.map((t) => t.text)).toEqual(["nope"]);
    void board.move("a", "amq");
    sock.last("lead:move").cb(null, { ok: false, error: { code: "CONFLICT", message: "conflict", details: { lead: card("a", "sales", "a5", { version: 3 }) } } });
    await flush();
    await Promise.resolve();
    expect(board.cards.get("a")!.stage).toBe("sales");
  });
  it("timeout reverts; event for pending card wins", async () => {
    void board.move("a", "amq");
    sock.last("lead:move").cb(new Error("timeout"));
    await flush();
    await Promise.resolve(); await Promise.resolve();
    expect(board.cards.get("a")!.stage).toBe("inquiry");
    void board.move("b", "amq");
    sock.fire("board:event", ev(2, card("b", "sales", "q", { version: 2 })));
    sock.last("lead:move").cb(null, { ok: false, error: { code: "CONFLICT", message: "c" } });
    await flush();
    await Promise.resolve();
    expect(board.cards.get("b")!.stage).toBe("sales");
  });
  it("gate refusal is not sent", async () => {
    const before = sock.count("lead:move");
    void board.move("n", "amq");
    expect(sock.count("lead:move")).toBe(before);
    expect(board.notices.toasts[0]!.text).toMatch(/AMQ needs a parent/);
    void board.move("a", "sales");
    expect(board.notices.toasts[1]!.text).toMatch(/needs sales ready/);
  });
  it("offline move is not sent", async () => {
    sock.down();
    void board.move("a", "amq");
    expect(sock.count("lead:move")).toBe(0);
    expect(board.cards.get("a")!.stage).toBe("inquiry");
  });
});

describe("logic", () => {
  const col = [card("a", "inquiry", "a0"), card("b", "inquiry", "a1"), card("c", "inquiry", "a2")];
  it("drop neighbours", async () => {
    expect(dropNeighbours(col, "x", "b")).toEqual({ afterId: "a", beforeId: "b" });
    expect(dropNeighbours(col, "x", "a")).toEqual({ beforeId: "a" });
    expect(dropNeighbours(col, "a", "b")).toEqual({ beforeId: "b" });
    expect(dropNeighbours(col, "x", null)).toEqual({});
  });
  it("ranks", async () => {
    const r = provisionalRank(col, "x", { afterId: "a", beforeId: "b" });
    expect(r > "a0" && r < "a1").toBe(true);
    expect(provisionalRank(col, "x", {}) > "a2").toBe(true);
    expect(provisionalRank(col, "x", { beforeId: "a" }) < "a0").toBe(true);
    expect(provisionalRank(col, "x", { afterId: "c" }) > "a2").toBe(true);
  });
  it("same place", async () => {
    expect(isSamePlace(col, col[1]!, "inquiry", { afterId: "a", beforeId: "c" })).toBe(true);
    expect(isSamePlace(col, col[2]!, "inquiry", {})).toBe(true);
    expect(isSamePlace(col, col[0]!, "inquiry", { beforeId: "b" })).toBe(true);
    expect(isSamePlace(col, col[0]!, "inquiry", {})).toBe(false);
    const p = planMove(col[0]!, stages, col, "inquiry", dropNeighbours(col, "a", "b"), "");
    expect(p.kind).toBe("noop");
  });
  it("misc", async () => {
    const now = Date.parse("2025-01-10T00:00:00Z");
    expect(formatAge("2025-01-07T00:00:00Z", now)).toBe("3d");
    expect(formatAge("2025-01-09T19:00:00Z", now)).toBe("5h");
    expect(formatAge("2025-01-09T23:48:00Z", now)).toBe("12m");
    expect(seqDecision(3, 4)).toBe("apply");
    expect(seqDecision(3, 3)).toBe("stale");
    expect(seqDecision(3, 5)).toBe("gap");
  });
});
