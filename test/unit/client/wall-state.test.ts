import { afterEach, describe, expect, it, vi } from "vitest";
import type { BoardSocket } from "../../../client/src/lib/board.svelte.ts";
import { WallState } from "../../../client/src/lib/wall/wall.svelte.ts";
import type { BoardEvent, BoardSnapshot, BoardStage, LeadCard } from "../../../shared/board.ts";
import type { DisplayScreen, WallConfig } from "../../../shared/schemas/display-tokens.ts";
import { FakeBoardSocket } from "../../support/fake-board-socket.ts";

// BoardState listens to the browser's online/offline events.
(globalThis as unknown as { window: EventTarget }).window = new EventTarget();

const stages: BoardStage[] = [
  { id: "s0", key: "inquiry", name: "Inquiry", position: 0, entryRequirements: [], gateFlag: null, salesReadyJump: false, fields: [], timeLimits: null },
  { id: "s1", key: "sales", name: "Sales", position: 1, entryRequirements: [], gateFlag: null, salesReadyJump: false, fields: [], timeLimits: null },
];

function card(id: string, extra: Partial<LeadCard> = {}): LeadCard {
  const at = new Date().toISOString();
  return {
    id, topic: `Topic ${id}`, contactId: "c", accountId: null, contactName: "N", companyName: "Acme", processId: "p1", stageId: "s0", stage: "inquiry",
    rank: `a${id}`, version: 1, readyForTeleprospecting: false, teleprospectingAccepted: false, salesReady: false, salesAccepted: false, scorable: true,
    ownerId: null, ownerName: null, campaign: null, formId: null, formName: null, score: null, grade: null, scores: [], source: "form", isTest: false,
    stageEnteredAt: at, updatedAt: at, ...extra,
  };
}

const snap = (processId: string, leads: LeadCard[], view: BoardSnapshot["view"] = "all"): BoardSnapshot => ({
  boardId: `board-${processId}`, processId, processName: `Process ${processId}`, seq: 1, view, stages, leads, serverTime: new Date().toISOString(),
  columns: Object.fromEntries(stages.map((s) => [s.key, { total: leads.filter((l) => l.stage === s.key).length, complete: true }])),
});
const screen = (processId: string, label: string, extra: Partial<DisplayScreen> = {}): DisplayScreen => ({ processId, view: "all", filters: {}, label, ...extra });
const config = (screens: DisplayScreen[], rotateSeconds: number | null = null): WallConfig => ({ name: "Sales room", screens, rotateSeconds, sound: false });
const flush = () => new Promise((r) => setTimeout(r, 0));

/** The shared fake, plus `off` (the wall unsubscribes from broadcasts when it stops). */
class FakeSocket extends FakeBoardSocket {
  off(ev: string, h: (...args: unknown[]) => void) {
    this.handlers.set(ev, (this.handlers.get(ev) ?? []).filter((x) => x !== h));
    return this;
  }
}

let wall: WallState | undefined;
afterEach(() => {
  vi.useRealTimers();
  wall?.stop();
});

function open(options: { reload?: () => void; chime?: () => void } = {}) {
  const sock = new FakeSocket();
  wall = new WallState({ token: "t", socket: sock as unknown as BoardSocket, wakeLock: null, random: () => 0, ...options });
  wall.start();
  return { sock, wall };
}

describe("a wall display's state", () => {
  it("joins nothing until the server sends its screens, then joins the first screen's board and view", async () => {
    const { sock, wall } = open();
    sock.up();
    await flush();
    expect(sock.count("board:join")).toBe(0);
    sock.fire("wall:config", config([screen("p1", "Pipeline", { view: "sales_ready" }), screen("p2", "Other")]));
    expect(sock.last("board:join").payload).toEqual({ processId: "p1", view: "sales_ready" });
    sock.last("board:join").cb(null, { ok: true, data: snap("p1", [card("1", { salesReady: true })], "sales_ready") });
    await flush();
    expect(wall.board.cards.size).toBe(1);
    expect(wall.title).toBe("Pipeline");
    expect(wall.shownIndex).toBe(0);
    // The figures of the joined board are asked for at once, for the TV's own day and week.
    const figures = sock.last("wall:figures").payload;
    expect(figures.boardId).toBe("board-p1");
    expect(typeof figures.dayStart).toBe("string");
    expect(Date.parse(String(figures.weekStart))).toBeLessThanOrEqual(Date.parse(String(figures.dayStart)));
  });

  it("rotates to the next screen after its period, and shows its label once its board has loaded", async () => {
    vi.useFakeTimers();
    const { sock, wall } = open();
    sock.up();
    sock.fire("wall:config", config([screen("p1", "First"), screen("p2", "Second")], 10));
    sock.last("board:join").cb(null, { ok: true, data: snap("p1", [card("1")]) });
    await vi.advanceTimersByTimeAsync(1_100);
    expect(wall.rotation?.periodMs).toBe(10_000);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(sock.last("board:join").payload).toEqual({ processId: "p2", view: "all" });
    expect(wall.screenIndex).toBe(1);
    // Until the second board loads, the first one (and its label) stays.
    expect(wall.title).toBe("First");
    sock.last("board:join").cb(null, { ok: true, data: snap("p2", [card("2", { processId: "p2" })]) });
    await vi.advanceTimersByTimeAsync(0);
    expect(wall.title).toBe("Second");
    expect(wall.shownIndex).toBe(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sock.last("board:join").payload).toEqual({ processId: "p1", view: "all" });
  });

  it("celebrates a lead that becomes sales-ready on its screen, not one its filters leave out", async () => {
    const chimes: number[] = [];
    const { sock, wall } = open({ chime: () => chimes.push(1) });
    sock.up();
    sock.fire("wall:config", config([screen("p1", "Spring", { filters: { campaign: "Spring" } })]));
    sock.last("board:join").cb(null, { ok: true, data: snap("p1", [card("1", { campaign: "Spring" }), card("2", { campaign: "Autumn" })]) });
    await flush();
    const event = (lead: LeadCard, seq: number): BoardEvent => ({ type: "lead.updated", boardId: "board-p1", seq, at: new Date().toISOString(), actor: { id: "u", name: "Morgan", kind: "user" }, lead });
    sock.fire("board:event", event(card("2", { campaign: "Autumn", salesReady: true, version: 2 }), 2));
    expect(wall.celebrations.current).toBeNull();
    sock.fire("board:event", event(card("1", { campaign: "Spring", salesReady: true, version: 2 }), 3));
    expect(wall.celebrations.current).toMatchObject({ kind: "sales_ready", leadId: "1", topic: "Topic 1" });
    // Sound is off unless the display's config turns it on.
    expect(chimes).toEqual([]);
  });

  it("knows since when it is offline, and forgets it once back", async () => {
    vi.useFakeTimers();
    const { sock, wall } = open();
    sock.up();
    sock.fire("wall:config", config([screen("p1", "Pipeline")]));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(wall.offlineSince).toBeNull();
    const lost = Date.now();
    sock.down();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(wall.offlineSince?.getTime()).toBeGreaterThanOrEqual(lost);
    sock.up();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(wall.offlineSince).toBeNull();
  });

  it("a revoked display stops for good and says so", async () => {
    const { sock, wall } = open();
    sock.up();
    sock.fire("wall:config", config([screen("p1", "Pipeline")]));
    sock.fire("session:ended", { reason: "display_revoked" });
    expect(wall.ended).toBe("revoked");
    expect(sock.connected).toBe(false);
    const connects = sock.connects;
    sock.fire("disconnect", "io server disconnect");
    await new Promise((r) => setTimeout(r, 400));
    expect(sock.connects).toBe(connects);
  });

  it("a refused handshake ends it too; a role change does not", () => {
    const first = open();
    first.sock.fire("session:ended", { reason: "role_changed" });
    expect(first.wall.ended).toBeNull();
    first.sock.refuse("UNAUTHENTICATED");
    expect(first.wall.ended).toBe("revoked");
  });

  it("reloads after a deploy: the first version is its own, a later different one reloads shortly", async () => {
    vi.useFakeTimers();
    let reloads = 0;
    const { sock, wall } = open({ reload: () => reloads++ });
    sock.up();
    sock.fire("server:version", { clientVersion: "v1" });
    sock.fire("server:version", { clientVersion: "v1" });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(reloads).toBe(0);
    sock.fire("server:version", { clientVersion: "v2" });
    expect(wall.reloading).toBe(true);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(reloads).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(reloads).toBe(1);
  });
});
