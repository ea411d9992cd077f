import { describe, expect, it } from "vitest";
import {
  beforeIdOf,
  cancelledText,
  droppedText,
  isMoveKey,
  isUnmoved,
  pickedUpText,
  pickUp,
  positionText,
  refusedDropText,
  step,
  stepText,
  type KeyColumn,
  type KeyPick,
  type MoveKey,
} from "../../../client/src/lib/keyboard-move.ts";
import { planMove, stageChoices } from "../../../client/src/lib/board-logic.ts";
import type { BoardStage, LeadCard } from "../../../shared/board.ts";

const col = (key: string, name: string, ...ids: string[]): KeyColumn => ({ key, name, cards: ids.map((id) => ({ id })) });
const columns: KeyColumn[] = [
  col("new", "New", "a", "b", "c"),
  col("qualified", "Qualified", "d"),
  col("sales", "Sales"),
  col("won", "Won", "e", "f", "g", "h"),
];
const noRefusal = () => null;

function walk(pick: KeyPick, keys: MoveKey[]): KeyPick {
  return keys.reduce((p, key) => step(p, key, columns).pick, pick);
}

describe("picking up", () => {
  it("finds the card's column and position", () => {
    expect(pickUp(columns, "b", "Beta")).toEqual({ leadId: "b", topic: "Beta", fromStage: "new", fromIndex: 1, stage: "new", index: 1 });
    expect(pickUp(columns, "zz", "Nope")).toBeNull();
  });

  it("announces the topic, the stage and the position", () => {
    const pick = pickUp(columns, "c", "Gamma")!;
    expect(pickedUpText(pick, columns)).toMatch(/^Picked up Gamma, in New, position 3 of 3\./);
  });
});

describe("arrow keys", () => {
  const b = pickUp(columns, "b", "Beta")!;

  it.each<{ keys: MoveKey[]; stage: string; index: number; before: string | null; position: string }>([
    { keys: [], stage: "new", index: 1, before: "c", position: "position 2 of 3" },
    { keys: ["ArrowUp"], stage: "new", index: 0, before: "a", position: "position 1 of 3" },
    { keys: ["ArrowUp", "ArrowUp", "ArrowUp"], stage: "new", index: 0, before: "a", position: "position 1 of 3" },
    { keys: ["ArrowDown"], stage: "new", index: 2, before: null, position: "position 3 of 3" },
    { keys: ["ArrowDown", "ArrowDown"], stage: "new", index: 2, before: null, position: "position 3 of 3" },
    // Into a shorter column: the row is clamped to its end.
    { keys: ["ArrowRight"], stage: "qualified", index: 1, before: null, position: "position 2 of 2" },
    { keys: ["ArrowRight", "ArrowUp"], stage: "qualified", index: 0, before: "d", position: "position 1 of 2" },
    { keys: ["ArrowRight", "ArrowRight"], stage: "sales", index: 0, before: null, position: "position 1 of 1" },
    { keys: ["ArrowRight", "ArrowRight", "ArrowRight", "ArrowDown", "ArrowDown"], stage: "won", index: 2, before: "g", position: "position 3 of 5" },
    { keys: ["ArrowLeft"], stage: "new", index: 1, before: "c", position: "position 2 of 3" },
  ])("$keys → $stage at $index", ({ keys, stage, index, before, position }) => {
    const pick = walk(b, keys);
    expect(pick).toMatchObject({ stage, index });
    expect(beforeIdOf(pick, columns)).toBe(before);
    expect(positionText(pick, columns)).toBe(position);
  });

  it("says when an edge stops it", () => {
    const first = pickUp(columns, "a", "Alpha")!;
    const up = step(first, "ArrowUp", columns);
    expect(up.moved).toBe(false);
    expect(stepText(first, up, columns, noRefusal, "ArrowUp")).toBe("Already at the top.");
    const left = step(first, "ArrowLeft", columns);
    expect(stepText(first, left, columns, noRefusal, "ArrowLeft")).toBe("Already in the first column.");
    const last = walk(first, ["ArrowRight", "ArrowRight", "ArrowRight"]);
    expect(stepText(last, step(last, "ArrowRight", columns), columns, noRefusal, "ArrowRight")).toBe("Already in the last column.");
  });

  it("announces the new place, and a refused column with its reason (the column is entered, not skipped)", () => {
    const refusal = (key: string) => (key === "sales" ? "needs sales ready" : null);
    const r1 = step(b, "ArrowRight", columns);
    expect(stepText(b, r1, columns, refusal, "ArrowRight")).toBe("Qualified, position 2 of 2.");
    const r2 = step(r1.pick, "ArrowRight", columns);
    expect(stepText(r1.pick, r2, columns, refusal, "ArrowRight")).toBe("Sales: cannot move here, needs sales ready.");
    expect(r2.pick.stage).toBe("sales");
    const r3 = step(r2.pick, "ArrowRight", columns);
    expect(stepText(r2.pick, r3, columns, refusal, "ArrowRight")).toBe("Won, position 1 of 5.");
    const down = step(b, "ArrowUp", columns);
    expect(stepText(b, down, columns, refusal, "ArrowUp")).toBe("Position 1 of 3.");
  });

  it("only arrows are move keys", () => {
    expect(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].every(isMoveKey)).toBe(true);
    expect(isMoveKey(" ")).toBe(false);
    expect(isMoveKey("Enter")).toBe(false);
  });
});

describe("dropping and cancelling", () => {
  const b = pickUp(columns, "b", "Beta")!;

  it("an unmoved pick is a no-op", () => {
    expect(isUnmoved(b)).toBe(true);
    expect(isUnmoved(walk(b, ["ArrowUp", "ArrowDown"]))).toBe(true);
    expect(isUnmoved(walk(b, ["ArrowRight", "ArrowLeft"]))).toBe(true);
    expect(isUnmoved(walk(b, ["ArrowDown"]))).toBe(false);
  });

  it("says where the card was dropped, where it went back to, and why a drop was refused", () => {
    const moved = walk(b, ["ArrowRight", "ArrowUp"]);
    expect(droppedText(moved, columns)).toBe("Dropped Beta in Qualified, position 1 of 2.");
    expect(cancelledText(moved, columns)).toBe("Move cancelled. Beta is back in New, position 2 of 3.");
    expect(refusedDropText(moved, columns, "needs sales ready")).toBe("Cannot drop Beta in Qualified: needs sales ready. Still holding it.");
  });
});

describe("the Move to stage… menu", () => {
  const stage = (key: string, position: number, entryRequirements: BoardStage["entryRequirements"] = []): BoardStage => ({
    id: `s-${key}`,
    key,
    name: key.toUpperCase(),
    position,
    entryRequirements,
    gateFlag: null,
    salesReadyJump: false,
    fields: [],
    timeLimits: null,
  });
  const stages = [stage("inquiry", 0), stage("amq", 1, ["has_parent"]), stage("sales", 2, ["sales_ready"])];
  const card = {
    id: "l1",
    topic: "T",
    stage: "inquiry",
    stageId: "s-inquiry",
    contactId: "c1",
    accountId: null,
    salesReady: false,
    salesAccepted: false,
    readyForTeleprospecting: false,
    teleprospectingAccepted: false,
    ownerId: null,
  } as unknown as LeadCard;

  it("lists every stage; the current one and those the gate refuses are disabled with the reason", () => {
    expect(stageChoices(card, stages)).toEqual([
      { key: "inquiry", name: "INQUIRY", disabled: true, reason: "current stage" },
      { key: "amq", name: "AMQ", disabled: false, reason: null },
      { key: "sales", name: "SALES", disabled: true, reason: "needs sales ready" },
    ]);
  });

  it("given the mover, refuses what the server's role rules refuse: a gate that is not theirs, a stage their role does not work", () => {
    const tp = [
      { ...stage("amq", 0), gateFlag: "ready_for_teleprospecting" as const },
      { ...stage("tpa", 1, ["ready_for_teleprospecting"]), gateFlag: "teleprospecting_accepted" as const },
      stage("tpq", 2, ["teleprospecting_accepted"]),
      stage("sales", 3, ["sales_ready"]),
    ];
    const inAmq = { ...card, stage: "amq", stageId: "s-amq" } as LeadCard;
    const manager = { kind: "user" as const, role: "sales_manager" as const };
    const telemarketer = { kind: "user" as const, role: "telemarketer" as const };
    // A drag from AMQ to TPA ticks "ready for teleprospecting": a telemarketer's gate, not a sales manager's.
    expect(stageChoices(inAmq, tp, manager)[1]).toEqual({ key: "tpa", name: "TPA", disabled: true, reason: "ready for teleprospecting is not your gate" });
    expect(stageChoices(inAmq, tp, telemarketer)[1]).toEqual({ key: "tpa", name: "TPA", disabled: false, reason: null });
    // Without a mover only the process decides (the same card, the same menu as before).
    expect(stageChoices(inAmq, tp)[1]!.disabled).toBe(false);
    // A telemarketer moving a sales-stage lead back to AMQ touches no teleprospecting stage.
    const inSales = { ...card, stage: "sales", stageId: "s-sales", salesReady: true } as LeadCard;
    expect(stageChoices(inSales, tp, telemarketer)[0]).toEqual({ key: "amq", name: "AMQ", disabled: true, reason: "not a stage your role works" });
    expect(stageChoices(inSales, tp, manager)[0]!.disabled).toBe(false);
    // A keyboard or pointer drop is planned with the same rules: refused before anything is sent.
    const refused = planMove(inAmq, tp, [], "tpa", {}, "", manager);
    expect(refused).toMatchObject({ kind: "refused", missing: [] });
    expect(refused.kind === "refused" && refused.reason).toContain("ready for teleprospecting");
    expect(planMove(inAmq, tp, [], "tpa", {}, "", telemarketer).kind).toBe("move");
    expect(planMove(inAmq, tp, [], "tpa", {}, "").kind).toBe("move");
  });
});
