import { describe, expect, it } from "vitest";
import { boardTotal, passesScreenFilters, wallColumn } from "../../client/src/lib/wall/wall-columns.ts";
import type { BoardStage, LeadCard } from "../../shared/board.ts";

const stage: BoardStage = { id: "s0", key: "inquiry", name: "Inquiry", position: 0, entryRequirements: [], gateFlag: null, salesReadyJump: false, fields: [], timeLimits: null };

function card(id: string, extra: Partial<LeadCard> = {}): LeadCard {
  return {
    id, topic: `Topic ${id}`, contactId: "c", accountId: null, contactName: "N", companyName: null, processId: "p", stageId: "s0", stage: "inquiry",
    rank: `a${id}`, version: 1, readyForTeleprospecting: false, teleprospectingAccepted: false, salesReady: false, salesAccepted: false, scorable: true,
    ownerId: null, ownerName: null, campaign: null, formId: null, formName: null, score: null, grade: null, scores: [], source: "form", isTest: false,
    stageEnteredAt: "2025-06-02T08:00:00Z", updatedAt: "2025-06-02T08:00:00Z", ...extra,
  };
}

describe("a wall column", () => {
  const cards = [card("1", { campaign: "Spring" }), card("2"), card("3", { campaign: "Spring", salesReady: true })];

  it("without filters: the server's total (the column may still be loading), at least the cards shown", () => {
    expect(wallColumn(stage, cards, {}, 120).total).toBe(120);
    expect(wallColumn(stage, cards, {}, 1).total).toBe(3);
    expect(wallColumn(stage, cards, {}, 3).cards.map((c) => c.id)).toEqual(["1", "2", "3"]);
  });

  it("with filters: the loaded cards that pass them, counted and shown in order", () => {
    const col = wallColumn(stage, cards, { campaign: "Spring" }, 120);
    expect(col.cards.map((c) => c.id)).toEqual(["1", "3"]);
    expect(col.total).toBe(2);
  });

  it("draws at most the limit but counts them all", () => {
    const many = Array.from({ length: 60 }, (_, i) => card(String(i).padStart(2, "0")));
    const col = wallColumn(stage, many, {}, 500, 40);
    expect(col.cards).toHaveLength(40);
    expect(col.total).toBe(500);
    expect(wallColumn(stage, many, {}, 0, -3).cards).toHaveLength(0);
  });

  it("an owner filter of 'me' matches nobody on a wall", () => {
    expect(wallColumn(stage, [card("1", { ownerId: "u" })], { owner: "me" }, 1).total).toBe(0);
  });

  it("the board's total adds up the columns", () => {
    expect(boardTotal([wallColumn(stage, cards, {}, 10), wallColumn(stage, cards, { campaign: "Spring" }, 10)])).toBe(12);
  });

  it("a celebration belongs on a screen by its filters, except sales-ready or not", () => {
    const becameReady = card("9", { campaign: "Spring", salesReady: true });
    expect(passesScreenFilters(becameReady, { campaign: "Spring", salesReady: false })).toBe(true);
    expect(passesScreenFilters(becameReady, { campaign: "Autumn" })).toBe(false);
    expect(passesScreenFilters(becameReady, {})).toBe(true);
  });
});
