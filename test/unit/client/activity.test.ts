import { describe, expect, it } from "vitest";
import {
  activityCap,
  activityPage,
  ActivityFeed,
  describeActivity,
  isActivity,
  type ActivityBoard,
} from "../../../client/src/lib/activity.svelte.ts";
import type { BoardActivity, BoardEvent, BoardStage, LeadCard, ScoreChange } from "../../../shared/board.ts";
import type { Ack } from "../../../shared/errors.ts";
import type { BoardActivityInput } from "../../../shared/schemas/board.ts";

const stages = [
  { key: "inquiry", name: "Inquiry" },
  { key: "sales_acceptance", name: "Sales acceptance" },
] as BoardStage[];

const lead = (id = "l1", topic = "Acme renewal"): LeadCard => ({ id, topic, stage: "inquiry" }) as LeadCard;
const mia = { id: "u-mia", name: "Mia Marketer", kind: "user" as const };
const scoring = { id: null, name: "Scoring", kind: "system" as const };
const common = (seq: number) => ({ boardId: "b1", seq, at: "2025-01-01T10:00:00.000Z" });
const change = (over: Partial<ScoreChange> = {}): ScoreChange => ({
  modelId: "m",
  modelName: "Website",
  from: 50,
  to: 55,
  grade: "B",
  threshold: 60,
  crossedThreshold: false,
  ...over,
});

const moved = (seq: number, leadId = "l1"): BoardEvent => ({
  ...common(seq),
  type: "lead.moved",
  actor: mia,
  lead: lead(leadId),
  fromStage: "inquiry",
  toStage: "sales_acceptance",
});
const scored = (seq: number, over: Partial<Extract<BoardEvent, { type: "lead.scored" }>> = {}): BoardEvent => ({
  ...common(seq),
  type: "lead.scored",
  actor: scoring,
  lead: lead(),
  changes: [change()],
  salesReadyMarked: false,
  moved: null,
  ...over,
});

describe("what the feed shows", () => {
  it.each<[string, BoardEvent, string | null]>([
    ["a move", moved(1), "Mia Marketer moved Acme renewal to Sales acceptance"],
    ["a new lead", { ...common(2), type: "lead.created", actor: mia, lead: lead() }, "Mia Marketer added Acme renewal in Inquiry"],
    ["a conversion", { ...common(3), type: "lead.removed", reason: "converted", actor: mia, lead: lead() }, "Mia Marketer converted Acme renewal"],
    [
      "a switch to another process",
      { ...common(4), type: "lead.removed", reason: "process_changed", actor: mia, lead: lead() },
      "Mia Marketer moved Acme renewal to another process",
    ],
    [
      "a threshold crossing",
      scored(5, { changes: [change({ to: 65, crossedThreshold: true })] }),
      "Acme renewal reached the threshold: Website 65 ≥ 60",
    ],
    [
      "a lead scoring made sales-ready",
      scored(6, { salesReadyMarked: true, changes: [change({ to: 70, crossedThreshold: true })] }),
      "Acme renewal became sales-ready (Website 70 ≥ 60)",
    ],
    [
      "a move by scoring",
      scored(7, { moved: { fromStage: "inquiry", toStage: "gone_stage" } }),
      "Scoring moved Acme renewal to gone stage",
    ],
    ["a plain score change (left out)", scored(8), null],
    ["an edit (left out)", { ...common(9), type: "lead.updated", actor: mia, lead: lead() }, null],
    ["a lead leaving the view (left out)", { ...common(10), type: "lead.left_view", actor: mia, leadId: "l1" }, null],
    ["a process edit (left out)", { ...common(11), type: "stages.changed", actor: mia, processName: "P", stages: [] }, null],
  ])("%s", (_name, event, text) => {
    expect(isActivity(event)).toBe(text !== null);
    expect(describeActivity(event, stages, null)?.text ?? null).toBe(text);
  });

  it("names the viewer 'You'", () => {
    expect(describeActivity(moved(1), stages, "u-mia")).toMatchObject({ actor: "You", text: "You moved Acme renewal to Sales acceptance", leadId: "l1", seq: 1 });
  });
});

/** A board whose `board:activity` answers are released by the test. */
class FakeBoard implements ActivityBoard {
  boardId: string | null = "b1";
  stages = stages;
  applied = new Set<(e: BoardEvent) => void>();
  synced = new Set<(k: "snapshot" | "resync") => void>();
  asked: Array<{ input: BoardActivityInput; answer: (res: Ack<BoardActivity> | Error) => void }> = [];

  onApplied(fn: (e: BoardEvent) => void) {
    this.applied.add(fn);
    return () => this.applied.delete(fn);
  }
  onSynced(fn: (k: "snapshot" | "resync") => void) {
    this.synced.add(fn);
    return () => this.synced.delete(fn);
  }
  request<T>(_event: "board:activity", input: BoardActivityInput): Promise<Ack<T>> {
    return new Promise((resolve, reject) => {
      this.asked.push({ input, answer: (res) => (res instanceof Error ? reject(res) : resolve(res as Ack<T>)) });
    });
  }
  apply(event: BoardEvent) {
    for (const fn of this.applied) fn(event);
  }
  sync(kind: "snapshot" | "resync") {
    for (const fn of this.synced) fn(kind);
  }
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const page = (seqs: number[], seq: number): Ack<BoardActivity> => ({ ok: true, data: { events: seqs.map((s) => moved(s, `l${s}`)), seq } });
const seqsOf = (feed: ActivityFeed) => feed.items.map((i) => i.seq);

describe("ActivityFeed", () => {
  it("loads the history after a snapshot, then adds live events newest first, once each", async () => {
    const board = new FakeBoard();
    const feed = new ActivityFeed(board, null);
    feed.start();
    board.sync("snapshot");
    expect(board.asked[0]!.input).toEqual({ boardId: "b1", limit: activityPage });
    // A live event arrives while the history is being read; it is newer than the page.
    board.apply(moved(12));
    board.asked[0]!.answer(page([11, 10, 9], 11));
    await flush();
    expect(seqsOf(feed)).toEqual([12, 11, 10, 9]);
    board.apply(moved(12));
    board.apply(scored(13));
    board.apply(moved(14));
    expect(seqsOf(feed)).toEqual([14, 12, 11, 10, 9]);
    // A resync replays through onApplied: no new request.
    board.sync("resync");
    expect(board.asked).toHaveLength(1);
  });

  it("counts what arrives while closed, keeps at most the cap, and pages back with beforeSeq", async () => {
    const board = new FakeBoard();
    const feed = new ActivityFeed(board, null);
    feed.start();
    board.sync("snapshot");
    board.asked[0]!.answer(page([5, 4], 5));
    await flush();
    expect(feed.hasOlder).toBe(false);
    for (let seq = 6; seq < 6 + activityCap; seq++) board.apply(moved(seq));
    expect(feed.items).toHaveLength(activityCap);
    expect(feed.unseen).toBe(activityCap);
    expect(feed.hasOlder).toBe(true);
    feed.toggle();
    expect(feed.unseen).toBe(0);
    const oldest = feed.items.at(-1)!.seq;
    void feed.loadOlder();
    expect(board.asked[1]!.input).toEqual({ boardId: "b1", beforeSeq: oldest, limit: activityPage });
    board.asked[1]!.answer(page([oldest - 1, oldest - 2], 200));
    await flush();
    expect(seqsOf(feed).slice(-2)).toEqual([oldest - 1, oldest - 2]);
    expect(feed.hasOlder).toBe(false);
  });

  it("reads past pages that hold only plain score changes, and pages on from the oldest event read", async () => {
    const board = new FakeBoard();
    const feed = new ActivityFeed(board, null);
    feed.start();
    board.sync("snapshot");
    const plain = (from: number): Ack<BoardActivity> => ({
      ok: true,
      data: { events: Array.from({ length: activityPage }, (_, i) => scored(from - i)), seq: 100 },
    });
    board.asked[0]!.answer(plain(100));
    await flush();
    expect(board.asked[1]!.input).toEqual({ boardId: "b1", beforeSeq: 71, limit: activityPage });
    board.asked[1]!.answer({ ok: true, data: { events: [moved(70), ...Array.from({ length: activityPage - 1 }, (_, i) => scored(69 - i))], seq: 100 } });
    await flush();
    expect(seqsOf(feed)).toEqual([70]);
    expect(feed.hasOlder).toBe(true);
    void feed.loadOlder();
    expect(board.asked[2]!.input).toEqual({ boardId: "b1", beforeSeq: 41, limit: activityPage });
  });

  it("goes on from the server's nextBeforeSeq after a short page cut by the server's scan bound", async () => {
    const board = new FakeBoard();
    const feed = new ActivityFeed(board, null);
    feed.start();
    board.sync("snapshot");
    // The server read its bound of feed events and found nothing for this view: an empty page, not the end.
    board.asked[0]!.answer({ ok: true, data: { events: [], seq: 5000, nextBeforeSeq: 3000 } });
    await flush();
    expect(board.asked[1]!.input).toEqual({ boardId: "b1", beforeSeq: 3000, limit: activityPage });
    board.asked[1]!.answer({ ok: true, data: { events: [moved(2990)], seq: 5000, nextBeforeSeq: 1000 } });
    await flush();
    expect(seqsOf(feed)).toEqual([2990]);
    expect(feed.hasOlder).toBe(true);
    void feed.loadOlder();
    expect(board.asked[2]!.input).toEqual({ boardId: "b1", beforeSeq: 1000, limit: activityPage });
    board.asked[2]!.answer({ ok: true, data: { events: [moved(900)], seq: 5000 } });
    await flush();
    expect(feed.hasOlder).toBe(false);
  });

  it("starts afresh on another board and ignores the answer meant for the previous one", async () => {
    const board = new FakeBoard();
    const feed = new ActivityFeed(board, null);
    feed.start();
    board.sync("snapshot");
    board.asked[0]!.answer(page([3], 3));
    await flush();
    board.boardId = "b2";
    board.sync("snapshot");
    expect(feed.items).toEqual([]);
    board.boardId = "b3";
    board.sync("snapshot");
    board.asked[1]!.answer(page([7], 7));
    board.asked[2]!.answer({ ok: true, data: { events: [{ ...moved(1), boardId: "b3" }], seq: 1 } });
    await flush();
    expect(seqsOf(feed)).toEqual([1]);
  });

  it("says so when the history cannot be read, and keeps live events", async () => {
    const board = new FakeBoard();
    const feed = new ActivityFeed(board, null);
    feed.start();
    board.sync("snapshot");
    board.asked[0]!.answer(new Error("operation has timed out"));
    await flush();
    expect(feed.error).toContain("could not be loaded");
    expect(feed.loading).toBe(false);
    board.apply(moved(2));
    expect(seqsOf(feed)).toEqual([2]);
    board.sync("snapshot");
    board.asked[1]!.answer({ ok: false, error: { code: "FORBIDDEN", message: "Not on this board" } });
    await flush();
    expect(feed.error).toBe("Not on this board");
  });

  it("stops listening when stopped", () => {
    const board = new FakeBoard();
    const feed = new ActivityFeed(board, null);
    const stop = feed.start();
    stop();
    board.apply(moved(1));
    board.sync("snapshot");
    expect(feed.items).toEqual([]);
    expect(board.asked).toEqual([]);
  });
});
