import { describe, expect, it } from "vitest";
import { celebrationMaxAgeMs, detectCelebration, enqueueCelebration, maxQueued, type Celebration } from "../../client/src/lib/wall/celebrations.ts";
import type { BoardEvent, LeadCard } from "../../shared/board.ts";

const now = Date.parse("2025-06-02T10:00:00Z");
const at = new Date(now - 1_000).toISOString();

function card(extra: Partial<LeadCard> = {}): LeadCard {
  return {
    id: "lead-1", topic: "Fleet renewal", contactId: "c", accountId: "a", contactName: "Ann", companyName: "Acme", processId: "p", stageId: "s1",
    stage: "amq", rank: "a0", version: 2, readyForTeleprospecting: false, teleprospectingAccepted: false, salesReady: false, salesAccepted: false,
    scorable: true, ownerId: "u1", ownerName: "Sam Seller", campaign: null, formId: null, formName: null, score: 40, grade: "B", scores: [],
    source: "form", isTest: false, stageEnteredAt: at, updatedAt: at, ...extra,
  };
}

const actor = { id: "u2", name: "Morgan", kind: "user" as const };
type Updated = Extract<BoardEvent, { type: "lead.updated" }>;
type Moved = Extract<BoardEvent, { type: "lead.moved" }>;
const updated = (lead: LeadCard, seq = 7): Updated => ({ type: "lead.updated", boardId: "b", seq, at, actor, lead });
const moved = (lead: LeadCard): Moved => ({ type: "lead.moved", boardId: "b", seq: 7, at, actor, lead, fromStage: "amq", toStage: "sales" });
const scored = (lead: LeadCard, salesReadyMarked: boolean): BoardEvent => ({
  type: "lead.scored", boardId: "b", seq: 7, at, actor: { id: null, name: "Scoring", kind: "system" }, lead, salesReadyMarked, moved: null,
  changes: [{ modelId: "m", modelName: "Web", from: 40, to: 75, grade: "A", threshold: 70, crossedThreshold: salesReadyMarked }],
});

const before = card();
const ready = card({ salesReady: true, version: 3 });
const accepted = card({ salesReady: true, salesAccepted: true, version: 4 });

describe("what the wall celebrates", () => {
  it.each<[string, BoardEvent, LeadCard | undefined, Celebration["kind"] | null]>([
    ["a score that crosses the threshold (the wall held the card)", scored(ready, true), before, "sales_ready"],
    ["a score that crosses the threshold (a card the wall had not loaded)", scored(ready, true), undefined, "sales_ready"],
    ["a lead marked sales-ready by hand", updated(ready), before, "sales_ready"],
    ["a move that made it sales-ready", moved(ready), before, "sales_ready"],
    ["a lead accepted by sales", updated(accepted), ready, "sales_accepted"],
    ["ready and accepted at once: acceptance wins", updated(accepted), before, "sales_accepted"],
    ["a score change of a lead that already was sales-ready", scored(card({ salesReady: true, version: 5 }), false), ready, null],
    ["scoring says it marked the lead but the wall held it as sales-ready already", scored(card({ salesReady: true, version: 5 }), true), ready, null],
    ["an edit of a sales-ready lead", updated(card({ salesReady: true, topic: "Renamed", version: 5 })), ready, null],
    ["an update of a card the wall did not hold (no before: no crossing)", updated(ready), undefined, null],
    ["a tick of sales-ready on a card the wall did not hold (the event names the flag)", { ...updated(ready), flagsSet: ["sales_ready"] }, undefined, "sales_ready"],
    ["acceptance by sales on a card the wall did not hold", { ...updated(accepted), flagsSet: ["sales_accepted"] }, undefined, "sales_accepted"],
    ["a move past the sales-ready gate on a card the wall did not hold", { ...moved(ready), flagsSet: ["teleprospecting_accepted", "sales_ready"] }, undefined, "sales_ready"],
    ["flags that are no moment (teleprospecting accepted)", { ...updated(card({ teleprospectingAccepted: true, version: 3 })), flagsSet: ["teleprospecting_accepted"] }, undefined, null],
    ["a score that does not make it sales-ready", scored(card({ version: 3 }), false), before, null],
    ["a lead that lost sales-ready", updated(card({ version: 5 })), ready, null],
    ["an older version than the one held (an echo)", updated(ready), card({ version: 9 }), null],
    ["a test lead", updated(card({ salesReady: true, isTest: true, version: 3 })), before, null],
    ["a new lead", { type: "lead.created", boardId: "b", seq: 7, at, actor, lead: ready }, undefined, null],
    ["a removed lead", { type: "lead.removed", boardId: "b", seq: 7, at, actor, lead: accepted, reason: "converted" }, ready, null],
    ["a lead leaving the view", { type: "lead.left_view", boardId: "b", seq: 7, at, actor, leadId: "lead-1" }, before, null],
  ])("%s → %s", (_name, event, previous, kind) => {
    const c = detectCelebration(event, previous, now);
    expect(c?.kind ?? null).toBe(kind);
  });

  it("names the lead, its company and owner, and the event", () => {
    expect(detectCelebration(updated(ready, 42), before, now)).toEqual({
      kind: "sales_ready", leadId: "lead-1", topic: "Fleet renewal", companyName: "Acme", ownerName: "Sam Seller", seq: 42,
    });
  });

  it("old news replayed after an outage is not celebrated; an unreadable time is taken as now", () => {
    const old = { ...updated(ready), at: new Date(now - celebrationMaxAgeMs - 1).toISOString() } as BoardEvent;
    expect(detectCelebration(old, before, now)).toBeNull();
    const justInTime = { ...updated(ready), at: new Date(now - celebrationMaxAgeMs).toISOString() } as BoardEvent;
    expect(detectCelebration(justInTime, before, now)?.kind).toBe("sales_ready");
    expect(detectCelebration({ ...updated(ready), at: "" } as BoardEvent, before, now)?.kind).toBe("sales_ready");
  });
});

describe("the celebration queue", () => {
  const c = (leadId: string, kind: Celebration["kind"] = "sales_ready"): Celebration => ({ kind, leadId, topic: leadId, companyName: null, ownerName: null, seq: 1 });

  it("queues in order, skips a lead already waiting for the same moment, keeps another moment of it", () => {
    let q: Celebration[] = [];
    q = enqueueCelebration(q, c("a"));
    q = enqueueCelebration(q, c("b"));
    q = enqueueCelebration(q, c("a"));
    q = enqueueCelebration(q, c("a", "sales_accepted"));
    expect(q.map((x) => `${x.leadId}:${x.kind}`)).toEqual(["a:sales_ready", "b:sales_ready", "a:sales_accepted"]);
  });

  it("a burst shows its first few and drops the rest; the queue given is not changed", () => {
    let q: Celebration[] = [];
    for (let i = 0; i < 20; i++) q = enqueueCelebration(q, c(`l${i}`));
    expect(q.map((x) => x.leadId)).toEqual(["l0", "l1", "l2", "l3", "l4"].slice(0, maxQueued));
    const frozen = Object.freeze([c("x")]);
    expect(enqueueCelebration(frozen, c("y"))).toHaveLength(2);
    expect(frozen).toHaveLength(1);
  });
});
