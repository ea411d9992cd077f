import { describe, expect, it } from "vitest";
import type { BoardEvent, CardScore, LeadCard, ScoreChange } from "../../../shared/board.ts";
import type { ScoreExplanation } from "../../../shared/schemas/scoring.ts";
import { averageScore, highlightText } from "../../../client/src/lib/board-logic.ts";
import {
  applyScored,
  breakdownLines,
  effectiveModel,
  evidenceText,
  explanationKey,
  explanationsFor,
  formatAgo,
  modelFromSearch,
  plainScores,
  pointsText,
  popoverPlacement,
  salesReadyAlert,
  scoreLabel,
  scoreMove,
  scoreText,
  searchWithModel,
  shownScore,
  trendText,
  type PendingCards,
  type ScoredEvent,
} from "../../../client/src/lib/score-logic.ts";

const now = Date.parse("2025-03-10T12:00:00Z");
const ago = (ms: number) => new Date(now - ms).toISOString();
const min = 60_000;

function makeCard(extra: Partial<LeadCard> = {}): LeadCard {
  return {
    id: "lead-1", topic: "Pricing request", contactId: "c1", accountId: "a1", contactName: "Ada Lovelace", companyName: "Analytical",
    processId: "p", stageId: "s0", stage: "inquiry", rank: "a0", version: 1, readyForTeleprospecting: false, teleprospectingAccepted: false,
    salesReady: false, salesAccepted: false, scorable: true, ownerId: null, ownerName: null, campaign: null, formId: null, formName: null,
    score: null, grade: null, scores: [], source: "form",
    isTest: false, stageEnteredAt: ago(0), updatedAt: "2025-03-10T11:00:00.000Z", ...extra,
  };
}
const cs = (modelId: string, score: number, previousScore: number | null = null, grade: string | null = null, salesReady = false): CardScore =>
  ({ modelId, score, previousScore, grade, salesReady });
const change = (extra: Partial<ScoreChange> = {}): ScoreChange =>
  ({ modelId: "m1", modelName: "Web interest", from: 40, to: 55, grade: "B", threshold: 50, crossedThreshold: false, ...extra });
function scored(lead: LeadCard, extra: Partial<ScoredEvent> = {}): ScoredEvent {
  return { boardId: "b", seq: 2, at: "", actor: { id: null, name: "Scoring", kind: "system" }, type: "lead.scored", lead, changes: [], salesReadyMarked: false, moved: null, ...extra };
}

describe("the score a card shows", () => {
  const card = makeCard({ score: 70, grade: "A", scores: [cs("m1", 40, 30, "C"), cs("m2", 70, 75, "A", true)] });
  it.each([
    ["best", null, { score: 70, grade: "A", trend: "down", previousScore: 75, modelId: "m2", salesReady: true }],
    ["one model", "m1", { score: 40, grade: "C", trend: "up", previousScore: 30, modelId: "m1", salesReady: false }],
    ["a model that does not score it", "m3", null],
  ] as const)("%s", (_name, modelId, expected) => {
    const shown = shownScore(card, modelId);
    if (expected === null) expect(shown).toBeNull();
    else expect(shown).toMatchObject(expected);
  });
  it("an unscored card shows none, and the best without per-model scores falls back to the card's score", () => {
    expect(shownScore(makeCard(), null)).toBeNull();
    expect(shownScore(makeCard({ score: 12, grade: null, scores: [] }), null)).toMatchObject({ score: 12, trend: "flat", modelId: null });
  });
  it("the first model of equal best scores is the best", () => {
    expect(shownScore(makeCard({ score: 5, scores: [cs("m1", 5, 1), cs("m2", 5, 9)] }), null)?.modelId).toBe("m1");
  });
  it.each([
    [30, null, "flat", ""],
    [30, 30, "flat", ""],
    [35, 30, "up", "up from 30"],
    [25, 30, "down", "down from 30"],
  ] as const)("trend of %s after %s is %s", (score, previous, trend, text) => {
    const shown = shownScore(makeCard({ score, scores: [cs("m1", score, previous)] }), "m1")!;
    expect(shown.trend).toBe(trend);
    expect(trendText(shown)).toBe(text);
  });
  it("texts and labels", () => {
    expect(scoreText(null)).toBe("—");
    expect(scoreText({ score: 42, grade: "B" })).toBe("42 · B");
    expect(scoreText({ score: -3, grade: null })).toBe("-3");
    expect(scoreLabel(shownScore(card, "m1"), "Web interest", true)).toBe("Score 40 · C, up from 30 (Web interest). Show the breakdown");
    expect(scoreLabel(shownScore(card, null), null, true)).toBe("Score 70 · A, down from 75 (best of the live models). Show the breakdown");
    expect(scoreLabel(null, null, false)).toMatch(/unscorable/);
    expect(pointsText(10)).toBe("+10");
    expect(pointsText(-5)).toBe("-5");
    expect(pointsText(0)).toBe("0");
  });
  it("a chosen model that is not live (any more) shows the best", () => {
    expect(effectiveModel("m1", null)).toBe("m1");
    expect(effectiveModel("m1", ["m1", "m2"])).toBe("m1");
    expect(effectiveModel("gone", ["m1"])).toBeNull();
    expect(effectiveModel(null, ["m1"])).toBeNull();
  });
  it("column averages use the shown score", () => {
    const cards = [card, makeCard({ id: "x", score: 10, scores: [cs("m1", 10)] }), makeCard({ id: "y" })];
    expect(averageScore(cards)).toBe(40);
    expect(averageScore(cards, "m1")).toBe(25);
    expect(averageScore(cards, "m2")).toBe(70);
    expect(averageScore([makeCard()], "m1")).toBeNull();
  });
  it("a score change animates up or down, not a first score or no change", () => {
    expect(scoreMove(undefined, 5)).toBeNull();
    expect(scoreMove(null, 5)).toBeNull();
    expect(scoreMove(5, 5)).toBeNull();
    expect(scoreMove(5, 15)).toBe("up");
    expect(scoreMove(5, -1)).toBe("down");
  });
});

describe("ages", () => {
  it.each([
    [0, "just now"],
    [59_000, "just now"],
    [2 * min, "2 min ago"],
    [59 * min + 59_000, "59 min ago"],
    [60 * min, "1 h ago"],
    [23 * 60 * min, "23 h ago"],
    [24 * 60 * min, "1 day ago"],
    [5 * 24 * 60 * min + 3 * min, "5 days ago"],
    [-5 * min, "just now"],
  ])("%i ms ago reads %s", (ms, text) => {
    expect(formatAgo(ago(ms), now)).toBe(text);
  });
  it("an unreadable time does not throw", () => {
    expect(formatAgo("nonsense", now)).toBe("some time ago");
  });
});

describe("breakdowns", () => {
  const explanation: ScoreExplanation = {
    modelId: "m1", modelName: "Accounts", threshold: 50, score: 15, grade: "C", previousScore: 5, salesReady: false, updatedAt: ago(0),
    breakdown: [
      {
        condition: 0, kind: "behavior", label: "form submitted: each time", points: 20, count: 4,
        contributors: [{ contactId: "c1", contactName: "Ada Lovelace", count: 3 }, { contactId: "c2", contactName: "Bob Babbage", count: 1 }],
        evidence: [
          { interactionId: "i1", type: "form_submitted", at: ago(2 * min), contactId: "c1", contactName: "Ada Lovelace" },
          { interactionId: "i2", type: "form_submitted", at: ago(3 * 24 * 60 * min), contactId: "c2", contactName: "Bob Babbage" },
        ],
      },
      { condition: 2, kind: "account", label: "Country is FR", points: -5 },
    ],
  };
  it("a line per condition with its points, and the interactions behind it with their age", () => {
    const lines = breakdownLines(explanation, "c1", now);
    expect(lines).toEqual([
      {
        key: "0", points: "+20", sign: "plus", label: "form submitted: each time", times: "×4",
        details: ["form submitted, 2 min ago", "form submitted by Bob Babbage, 3 days ago", "from Ada Lovelace ×3, Bob Babbage ×1", "and 2 earlier"],
      },
      { key: "2", points: "-5", sign: "minus", label: "Country is FR", times: "", details: [] },
    ]);
  });
  it("an account-based lead (no contact) names every contact", () => {
    const [first] = breakdownLines(explanation, null, now);
    expect(first!.details[0]).toBe("form submitted by Ada Lovelace, 2 min ago");
    expect(evidenceText({ interactionId: "i", type: "event_attended", at: ago(10 * min), contactId: "c9", contactName: null }, null, now)).toBe(
      "attended an event by another contact, 10 min ago",
    );
  });
  it("the popover shows the chosen model's, or all with the best first", () => {
    const other = { ...explanation, modelId: "m2", score: 99 };
    expect(explanationsFor([explanation, other], "m1").map((e) => e.modelId)).toEqual(["m1"]);
    expect(explanationsFor([explanation, other], null).map((e) => e.modelId)).toEqual(["m2", "m1"]);
  });
  it("the cache key changes with the scores even when the card's update time does not", () => {
    const card = makeCard({ score: 5, scores: [cs("m1", 5)] });
    expect(explanationKey(card)).toBe(explanationKey({ ...card }));
    expect(explanationKey(card)).not.toBe(explanationKey({ ...card, score: 7, scores: [cs("m1", 7, 5)] }));
    expect(explanationKey(card)).not.toBe(explanationKey({ ...card, updatedAt: ago(0) }));
  });
  it("reads a lead detail's scores loosely", () => {
    expect(plainScores([{ modelId: "m1", modelName: "Web", score: 3, grade: null }, { nope: 1 }, null])).toEqual([
      { modelId: "m1", modelName: "Web", score: 3, grade: null },
    ]);
    expect(plainScores(undefined)).toEqual([]);
  });
});

describe("lead.scored on the board", () => {
  it("updates the card", () => {
    const cards = new Map([["lead-1", makeCard()]]);
    const lead = makeCard({ score: 20, grade: "C", scores: [cs("m1", 20, null, "C")] });
    expect(applyScored(cards, new Map(), scored(lead))).toBe(true);
    expect(cards.get("lead-1")).toBe(lead);
  });
  it("ignores an older version", () => {
    const current = makeCard({ version: 3 });
    const cards = new Map([["lead-1", current]]);
    expect(applyScored(cards, undefined, scored(makeCard({ version: 2, score: 9 })))).toBe(false);
    expect(cards.get("lead-1")).toBe(current);
  });
  it("keeps a pending move's place and takes only the scores (also into the card to restore)", () => {
    const original = makeCard();
    const optimistic = makeCard({ stage: "amq", stageId: "s1", rank: "b0" });
    const cards = new Map([["lead-1", optimistic]]);
    const pending = new Map<string, PendingCards>([["lead-1", { original, optimistic }]]);
    applyScored(cards, pending, scored(makeCard({ score: 30, grade: "B", scores: [cs("m1", 30)], salesReady: true })));
    expect(cards.get("lead-1")).toMatchObject({ stage: "amq", rank: "b0", score: 30, grade: "B", salesReady: true });
    expect(pending.get("lead-1")!.optimistic).toBe(cards.get("lead-1"));
    expect(pending.get("lead-1")!.original).toMatchObject({ stage: "inquiry", score: 30 });
  });
  it("a move by scoring wins over a pending move, as any move does", () => {
    const original = makeCard();
    const optimistic = makeCard({ stage: "amq" });
    const cards = new Map([["lead-1", optimistic]]);
    const pending = new Map<string, PendingCards>([["lead-1", { original, optimistic }]]);
    const lead = makeCard({ stage: "sales", version: 2, salesReady: true });
    applyScored(cards, pending, scored(lead, { moved: { fromStage: "inquiry", toStage: "sales" } }));
    expect(cards.get("lead-1")).toBe(lead);
  });
  it.each([
    [{ moved: { fromStage: "inquiry", toStage: "amq" } }, "moved by Scoring"],
    [{ salesReadyMarked: true }, "sales-ready by Scoring"],
    [{}, null],
  ] as const)("highlight %j", (extra, text) => {
    expect(highlightText(scored(makeCard(), extra))).toBe(text);
  });
  it("other events keep their actor", () => {
    const moved: BoardEvent = { boardId: "b", seq: 1, at: "", actor: { id: "u", name: "Mia", kind: "user" }, type: "lead.moved", lead: makeCard(), fromStage: "a", toStage: "b" };
    expect(highlightText(moved)).toBe("moved by Mia");
  });
});

describe("sales-ready alerts", () => {
  const crossing = scored(makeCard({ topic: "Big deal" }), { changes: [change({ crossedThreshold: true })], salesReadyMarked: true });
  it.each([
    ["sales_manager", true],
    ["salesperson", true],
    ["marketer", false],
    ["admin", false],
    ["telemarketer", false],
    ["viewer", false],
    [undefined, false],
  ] as const)("%s is alerted: %s", (role, alerted) => {
    const alert = salesReadyAlert(crossing, role);
    if (alerted) expect(alert).toEqual({ leadId: "lead-1", text: "Big deal is sales-ready: Web interest 55 ≥ 50" });
    else expect(alert).toBeNull();
  });
  it("only for a crossing or a marking", () => {
    expect(salesReadyAlert(scored(makeCard(), { changes: [change()] }), "salesperson")).toBeNull();
    expect(salesReadyAlert(scored(makeCard(), { changes: [change({ crossedThreshold: true })] }), "salesperson")).not.toBeNull();
  });
  it("names the model that crossed, else the one furthest over its threshold", () => {
    const event = scored(makeCard({ topic: "T" }), {
      salesReadyMarked: true,
      changes: [change({ modelName: "Low", to: 10, threshold: 50 }), change({ modelName: "Over", to: 80, threshold: 60 }), change({ modelName: "Near", to: 51, threshold: 50 })],
    });
    expect(salesReadyAlert(event, "sales_manager")?.text).toBe("T is sales-ready: Over 80 ≥ 60");
    expect(salesReadyAlert(scored(makeCard({ topic: "T" }), { salesReadyMarked: true }), "sales_manager")?.text).toBe("T is sales-ready");
  });
  it("not for test leads, nor other events", () => {
    expect(salesReadyAlert({ ...crossing, lead: makeCard({ isTest: true }) }, "salesperson")).toBeNull();
    const moved: BoardEvent = { boardId: "b", seq: 1, at: "", actor: { id: "u", name: "Mia", kind: "user" }, type: "lead.moved", lead: makeCard(), fromStage: "a", toStage: "b" };
    expect(salesReadyAlert(moved, "salesperson")).toBeNull();
  });
});

describe("the model in the URL", () => {
  it.each([
    ["", null],
    ["?model=m1", "m1"],
    ["?view=mine&model=m2", "m2"],
    ["?model=", null],
  ])("%s → %s", (search, model) => {
    expect(modelFromSearch(search)).toBe(model);
  });
  it.each([
    ["", "m1", "?model=m1"],
    ["?model=m1", null, ""],
    ["?x=1&model=m1", "m2", "?x=1&model=m2"],
    ["?x=1", null, "?x=1"],
  ] as const)("%s with %s → %s", (search, model, expected) => {
    expect(searchWithModel(search, model)).toBe(expected);
  });
});

describe("popover placement", () => {
  const viewport = { width: 1000, height: 800 };
  it("below the anchor when there is room", () => {
    expect(popoverPlacement({ top: 100, bottom: 120, left: 50, right: 90 }, { width: 320, height: 200 }, viewport)).toEqual({ top: 126, left: 50, above: false });
  });
  it("above near the bottom, inside the viewport near the right edge", () => {
    expect(popoverPlacement({ top: 700, bottom: 720, left: 900, right: 940 }, { width: 320, height: 200 }, viewport)).toEqual({ top: 494, left: 672, above: true });
  });
});
