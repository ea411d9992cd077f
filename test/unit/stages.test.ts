import { describe, expect, it } from "vitest";
import {
  checkTransition,
  defaultStages,
  flagsProvidedByMove,
  missingForConversion,
  stageAfterFlag,
  type LeadFacts,
  type LeadFlag,
  type StageRule,
} from "../../shared/domain/stages.ts";

const stages: StageRule[] = defaultStages.map((s) => ({ ...s, id: s.key }));
const stage = (key: string): StageRule => stages.find((s) => s.key === key)!;

const lead = (facts: Partial<LeadFacts> = {}): LeadFacts => ({
  contactId: "c",
  accountId: null,
  readyForTeleprospecting: false,
  teleprospectingAccepted: false,
  salesReady: false,
  salesAccepted: false,
  ownerId: null,
  ...facts,
});

const AMQ = "automated_marketing_qualification";
const TA = "teleprospecting_acceptance";
const TQ = "teleprospecting_qualification";
const SA = "sales_acceptance";

describe("checkTransition", () => {
  const cases: Array<[string, LeadFacts, string, string, { allowed: boolean; missing?: string[]; ticks?: LeadFlag[] }]> = [
    ["inquiry to AMQ with a contact", lead(), "inquiry", AMQ, { allowed: true, ticks: [] }],
    ["inquiry to AMQ with an account only", lead({ contactId: null, accountId: "a" }), "inquiry", AMQ, { allowed: true, ticks: [] }],
    ["leaving inquiry needs a parent", lead({ contactId: null }), "inquiry", AMQ, { allowed: false, missing: ["has_parent"] }],
    ["AMQ to sales acceptance when already sales-ready", lead({ salesReady: true }), AMQ, SA, { allowed: true, ticks: [] }],
    ["a drag from AMQ to sales acceptance marks the lead sales-ready by hand", lead(), AMQ, SA, { allowed: true, ticks: ["sales_ready"] }],
    ["a drag from inquiry to sales acceptance marks it sales-ready too", lead(), "inquiry", SA, { allowed: true, ticks: ["sales_ready"] }],
    ["an orphan cannot jump to sales acceptance", lead({ contactId: null }), "inquiry", SA, { allowed: false, missing: ["has_parent"] }],
    ["a drag from AMQ to teleprospecting acceptance marks it ready", lead(), AMQ, TA, { allowed: true, ticks: ["ready_for_teleprospecting"] }],
    ["inquiry cannot skip to teleprospecting acceptance", lead(), "inquiry", TA, { allowed: false, missing: ["ready_for_teleprospecting"] }],
    ["a telemarketer's drag to qualification accepts the lead", lead({ readyForTeleprospecting: true }), TA, TQ, { allowed: true, ticks: ["teleprospecting_accepted"] }],
    ["AMQ cannot skip to qualification", lead(), AMQ, TQ, { allowed: false, missing: ["teleprospecting_accepted"] }],
    ["qualification to sales acceptance marks it sales-ready", lead({ teleprospectingAccepted: true }), TQ, SA, { allowed: true, ticks: ["sales_ready"] }],
    ["teleprospecting acceptance cannot skip to sales acceptance", lead({ readyForTeleprospecting: true }), TA, SA, { allowed: false, missing: ["sales_ready"] }],
    ["backwards is always allowed", lead({ contactId: null }), SA, "inquiry", { allowed: true, ticks: [] }],
    ["same stage (reorder) is allowed", lead(), "inquiry", "inquiry", { allowed: true, ticks: [] }],
  ];

  it.each(cases)("%s", (_name, facts, from, to, expected) => {
    const result = checkTransition(facts, stage(from), stage(to));
    expect(result.allowed).toBe(expected.allowed);
    if (!result.allowed) expect(result.missing).toEqual(expected.missing);
    else expect(result.ticks).toEqual(expected.ticks);
  });

  it("an override passes any gate, still ticking what the move provides", () => {
    const result = checkTransition(lead({ contactId: null }), stage("inquiry"), stage(TQ), true);
    expect(result).toEqual({ allowed: true, direction: "forward", ticks: [] });
  });

  it("names the missing facts in its message", () => {
    const result = checkTransition(lead(), stage(AMQ), stage(TQ));
    expect(result.allowed).toBe(false);
    if (!result.allowed) expect(result.message).toBe("Teleprospecting qualification needs teleprospecting accepted");
  });
});

describe("flagsProvidedByMove", () => {
  it.each([
    [AMQ, TA, ["ready_for_teleprospecting"]],
    [TA, TQ, ["teleprospecting_accepted"]],
    [TQ, SA, ["sales_ready"]],
    [AMQ, SA, ["sales_ready"]],
    ["inquiry", AMQ, []],
    [SA, AMQ, []],
  ])("%s → %s provides %j", (from, to, flags) => {
    expect(flagsProvidedByMove(stage(from), stage(to))).toEqual(flags);
  });
});

describe("stageAfterFlag", () => {
  it.each([
    ["ready_for_teleprospecting in AMQ advances to teleprospecting acceptance", AMQ, "ready_for_teleprospecting", TA],
    ["teleprospecting_accepted in TA advances to qualification", TA, "teleprospecting_accepted", TQ],
    ["sales_ready in TQ advances to sales acceptance", TQ, "sales_ready", SA],
    ["sales_ready in AMQ jumps straight to sales acceptance", AMQ, "sales_ready", SA],
    ["sales_ready in inquiry jumps straight to sales acceptance", "inquiry", "sales_ready", SA],
    ["sales_ready in TA (not its gate, no jump) stays", TA, "sales_ready", null],
    ["sales_accepted in sales acceptance stays (last stage)", SA, "sales_accepted", null],
    ["a flag that is not the stage's gate stays", AMQ, "teleprospecting_accepted", null],
  ] as Array<[string, string, LeadFlag, string | null]>)("%s", (_name, current, flag, expected) => {
    expect(stageAfterFlag(stages, stage(current), flag)?.key ?? null).toBe(expected);
  });
});

describe("missingForConversion", () => {
  it.each([
    [lead({ salesAccepted: true, ownerId: "u" }), []],
    [lead({ salesAccepted: true }), ["has_owner"]],
    [lead({ ownerId: "u" }), ["sales_accepted"]],
    [lead(), ["sales_accepted", "has_owner"]],
  ])("%# %j", (facts, missing) => {
    expect(missingForConversion(facts, ["sales_accepted", "has_owner"])).toEqual(missing);
  });
});
