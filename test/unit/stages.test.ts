import { describe, expect, it } from "vitest";
import { checkTransition, defaultStages, type LeadFacts, type StageRule } from "../../shared/domain/stages.ts";

const stage = (key: string): StageRule => {
  const s = defaultStages.find((d) => d.key === key)!;
  return { ...s, id: key };
};

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

describe("checkTransition", () => {
  const cases: Array<[string, LeadFacts, string, string, boolean, string[]]> = [
    ["inquiry to AMQ with a contact", lead(), "inquiry", "automated_marketing_qualification", true, []],
    ["inquiry to AMQ with an account only", lead({ contactId: null, accountId: "a" }), "inquiry", "automated_marketing_qualification", true, []],
    ["inquiry to AMQ with no parent", lead({ contactId: null }), "inquiry", "automated_marketing_qualification", false, ["has_parent"]],
    ["AMQ to sales acceptance when sales-ready skips teleprospecting", lead({ salesReady: true }), "automated_marketing_qualification", "sales_acceptance", true, []],
    ["AMQ to sales acceptance without sales-ready", lead(), "automated_marketing_qualification", "sales_acceptance", false, ["sales_ready"]],
    ["AMQ to teleprospecting acceptance when marked ready", lead({ readyForTeleprospecting: true }), "automated_marketing_qualification", "teleprospecting_acceptance", true, []],
    ["AMQ to teleprospecting acceptance unmarked", lead(), "automated_marketing_qualification", "teleprospecting_acceptance", false, ["ready_for_teleprospecting"]],
    ["teleprospecting acceptance to qualification once accepted", lead({ readyForTeleprospecting: true, teleprospectingAccepted: true }), "teleprospecting_acceptance", "teleprospecting_qualification", true, []],
    ["teleprospecting acceptance to qualification unaccepted", lead({ readyForTeleprospecting: true }), "teleprospecting_acceptance", "teleprospecting_qualification", false, ["teleprospecting_accepted"]],
    ["orphan to sales acceptance lists every missing fact", lead({ contactId: null }), "inquiry", "sales_acceptance", false, ["has_parent", "sales_ready"]],
    ["backwards is always allowed", lead({ contactId: null }), "sales_acceptance", "inquiry", true, []],
    ["same stage (reorder) is allowed", lead(), "inquiry", "inquiry", true, []],
  ];

  it.each(cases)("%s", (_name, facts, from, to, allowed, missing) => {
    const result = checkTransition(facts, stage(from), stage(to));
    expect(result.allowed).toBe(allowed);
    if (!result.allowed) expect(result.missing).toEqual(missing);
  });

  it("an override skips the gate", () => {
    expect(checkTransition(lead(), stage("inquiry"), stage("sales_acceptance"), true).allowed).toBe(true);
  });

  it("names the missing facts in its message", () => {
    const result = checkTransition(lead(), stage("inquiry"), stage("sales_acceptance"));
    expect(result.allowed).toBe(false);
    if (!result.allowed) expect(result.message).toBe("Sales acceptance needs sales ready");
  });
});
