/**
 * BoardState loading a big board: the snapshot's first pages, then `board:page` in the
 * background, one request at a time, paused by syncs and disconnects, restarted by snapshots.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BoardState, type BoardSocket } from "../../../client/src/lib/board.svelte.ts";
import { backgroundPageSize } from "../../../client/src/lib/board-pager.svelte.ts";
import type { BoardEvent, BoardPage, BoardSnapshot, BoardStage, LeadCard } from "../../../shared/board.ts";
import { FakeBoardSocket as FakeSocket } from "../../support/fake-board-socket.ts";

// BoardState listens to the browser's online/offline events.
(globalThis as unknown as { window: EventTarget }).window = new EventTarget();


const stages: BoardStage[] = ["inquiry", "amq"].map((key, position) => ({
  id: `s-${key}`, key, name: key, position, entryRequirements: [], gateFlag: null, salesReadyJump: false, fields: [], timeLimits: null,
}));
function card(id: string, stage: string, rank: string, version = 1): LeadCard {
  return {
    id, topic: `Lead ${id}`, contactId: "c", accountId: null, contactName: null, companyName: null, processId: "p", stageId: `s-${stage}`,
    stage, rank, version, readyForTeleprospecting: false, teleprospectingAccepted: false, salesReady: false, salesAccepted: false,
    scorable: true, ownerId: null, ownerName: null, campaign: null, formId: null, formName: null, score: null, grade: null, scores: [],
    source: "manual", isTest: false, stageEnteredAt: new Date().toISOString(), updatedAt: new Date().toISOString(),
  };
}
/** Inquiry holds 5 leads (i1..i5), amq 3 (m1..m3); the snapshot carries the first 2 of each. */
function snap(seq: number): BoardSnapshot {
  return {
    boardId: "b", processId: "p", processName: "P", seq, view: "all", stages, serverTime: new Date().toISOString(),
    columns: { inquiry: { total: 5, complete: false }, amq: { total: 3, complete: false } },
    leads: [card("i1", "inquiry", "a1"), card("i2", "inquiry", "a2"), card("m1", "amq", "a1"), card("m2", "amq", "a2")],
  };
}
const page = (seq: number, cards: LeadCard[], complete: boolean): { ok: true; data: BoardPage } => ({ ok: true, data: { seq, cards, complete } });
const actor = { id: "other", name: "Mia", kind: "user" as const };
const flush = () => new Promise((r) => setTimeout(r, 0));
const ids = (b: BoardState, stage: string) => b.pages.visible(stage, b.columns.get(stage) ?? []).map((c) => c.id);

let sock: FakeSocket;
let board: BoardState;
beforeEach(async () => {
  sock = new FakeSocket();
  board = new BoardState({ userId: "me", onUnauthenticated: () => {}, socket: sock as unknown as BoardSocket });
  board.start();
  sock.up();
  sock.last("board:join").cb(null, { ok: true, data: snap(10) });
  await flush();
});
afterEach(() => board.stop());

describe("loading a big board after its snapshot", () => {
  it("asks for the rest of each incomplete column, one page at a time, until complete", async () => {
    expect(board.pages.loading).toBe(true);
    expect(board.pages.countOf("inquiry", 2)).toBe(5);
    expect(sock.count("board:page")).toBe(1);
    expect(sock.last("board:page").payload).toEqual({ boardId: "b", stage: "inquiry", limit: backgroundPageSize, after: { rank: "a2", id: "i2" } });
    sock.last("board:page").cb(null, page(10, [card("i3", "inquiry", "a3"), card("i4", "inquiry", "a4"), card("i5", "inquiry", "a5")], true));
    await flush();
    expect(ids(board, "inquiry")).toEqual(["i1", "i2", "i3", "i4", "i5"]);
    expect(board.pages.isComplete("inquiry")).toBe(true);
    expect(sock.last("board:page").payload).toMatchObject({ stage: "amq", after: { rank: "a2", id: "m2" } });
    sock.last("board:page").cb(null, page(10, [card("m3", "amq", "a3")], true));
    await flush();
    expect(board.pages.loading).toBe(false);
    expect(sock.count("board:page")).toBe(2);
  });

  it("loads the column the user scrolls towards first", async () => {
    board.pages.needMore("amq");
    // The inquiry page already asked is answered first; the next request is amq's.
    sock.last("board:page").cb(null, page(10, [card("i3", "inquiry", "a3")], false));
    await flush();
    expect(sock.last("board:page").payload).toMatchObject({ stage: "amq" });
  });

  it("never resurrects a lead removed after the page was read, nor regresses one changed since", async () => {
    const request = sock.last("board:page");
    const removed: BoardEvent = { boardId: "b", seq: 11, at: "", actor, type: "lead.removed", reason: "converted", lead: card("i3", "inquiry", "a3") };
    const moved: BoardEvent = { boardId: "b", seq: 12, at: "", actor, type: "lead.moved", fromStage: "inquiry", toStage: "amq", lead: card("i4", "amq", "a0", 2) };
    sock.fire("board:event", removed);
    sock.fire("board:event", moved);
    expect(board.pages.countOf("inquiry", 2)).toBe(3);
    request.cb(null, page(10, [card("i3", "inquiry", "a3"), card("i4", "inquiry", "a4"), card("i5", "inquiry", "a5")], true));
    await flush();
    expect(ids(board, "inquiry")).toEqual(["i1", "i2", "i5"]);
    expect(board.cards.get("i4")).toMatchObject({ stage: "amq", version: 2 });
    expect(board.cards.has("i3")).toBe(false);
  });

  it("shows a card an event brings in beyond what is loaded only once the pages reach it", async () => {
    const created: BoardEvent = { boardId: "b", seq: 11, at: "", actor, type: "lead.created", lead: card("late", "inquiry", "a9") };
    sock.fire("board:event", created);
    expect(board.cards.has("late")).toBe(true);
    expect(ids(board, "inquiry")).toEqual(["i1", "i2"]);
    expect(board.pages.countOf("inquiry", 2)).toBe(6);
    sock.last("board:page").cb(null, page(11, [card("i3", "inquiry", "a3"), card("late", "inquiry", "a9")], false));
    await flush();
    expect(ids(board, "inquiry")).toEqual(["i1", "i2", "i3", "late"]);
  });

  it("drops an answer that comes after a disconnect and asks again after the resync", async () => {
    const lost = sock.last("board:page");
    sock.down();
    lost.cb(null, page(10, [card("i3", "inquiry", "a3")], false));
    await flush();
    expect(board.cards.has("i3")).toBe(false);
    sock.up();
    expect(sock.count("board:page")).toBe(1);
    sock.last("board:resync").cb(null, { ok: true, data: { events: [] } });
    await flush();
    expect(sock.count("board:page")).toBe(2);
    expect(sock.last("board:page").payload).toMatchObject({ stage: "inquiry", after: { rank: "a2", id: "i2" } });
  });

  it("starts over when a snapshot replaces the board", async () => {
    const old = sock.last("board:page");
    sock.down();
    sock.up();
    const fresh = snap(40);
    fresh.leads = [card("i1", "inquiry", "a1"), card("m1", "amq", "a1")];
    fresh.columns = { inquiry: { total: 2, complete: false }, amq: { total: 1, complete: true } };
    sock.last("board:resync").cb(null, { ok: true, data: { snapshot: fresh } });
    await flush();
    old.cb(null, page(10, [card("i3", "inquiry", "a3")], true));
    await flush();
    expect(board.cards.has("i3")).toBe(false);
    expect(board.pages.isComplete("amq")).toBe(true);
    expect(sock.last("board:page").payload).toMatchObject({ stage: "inquiry", after: { rank: "a1", id: "i1" } });
  });

  it("retries a page that failed, later", async () => {
    sock.last("board:page").cb(null, { ok: false, error: { code: "UNAVAILABLE", message: "busy" } });
    await flush();
    expect(sock.count("board:page")).toBe(1);
    await expect.poll(() => sock.count("board:page"), { timeout: 3_000 }).toBe(2);
    expect(sock.last("board:page").payload).toMatchObject({ stage: "inquiry", after: { rank: "a2", id: "i2" } });
  });
});
