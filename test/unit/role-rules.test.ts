import { describe, expect, it } from "vitest";
import { canSeeLead, type Principal } from "../../shared/domain/permissions.ts";
import { leadScope, planMove, stageWorkProblem, type LeadViewer, type MovePlan } from "../../shared/domain/role-rules.ts";
import { defaultStages, type LeadFacts, type StageRule } from "../../shared/domain/stages.ts";
import { roles, type Role } from "../../shared/schemas/common.ts";

const stages: StageRule[] = defaultStages.map((s) => ({ ...s, id: s.key }));
const stage = (key: string): StageRule => stages.find((s) => s.key === key)!;
const AMQ = "automated_marketing_qualification";
const TA = "teleprospecting_acceptance";
const TQ = "teleprospecting_qualification";
const SA = "sales_acceptance";

const person = (role: Role): Principal => ({ kind: "user", role });
const writeKey: Principal = { kind: "api", role: "viewer", scopes: ["write"] };

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

describe("leadScope", () => {
  const shapes = [
    { salesReady: false, ownerId: null },
    { salesReady: true, ownerId: null },
    { salesReady: false, ownerId: "me" },
    { salesReady: false, ownerId: "someone else" },
    { salesReady: true, ownerId: "someone else" },
  ];
  const inScope = (viewer: LeadViewer, l: { salesReady: boolean; ownerId: string | null }) => {
    const scope = leadScope(viewer);
    return scope.kind === "all" || l.salesReady || (scope.ownerId !== null && l.ownerId === scope.ownerId);
  };

  it.each(roles.flatMap((r) => [[r, "me"] as const, [r, null] as const]))("agrees with canSeeLead for a %s (id %s)", (role, id) => {
    const viewer: LeadViewer = { kind: "user", role, id };
    for (const shape of shapes) expect(inScope(viewer, shape), JSON.stringify(shape)).toBe(canSeeLead(viewer, shape));
  });

  it("limits only salespeople", () => {
    expect(roles.filter((role) => leadScope({ kind: "user", role, id: "me" }).kind !== "all")).toEqual(["salesperson"]);
  });
});

describe("stageWorkProblem", () => {
  const cases: Array<[string, Principal, string, string | null, boolean]> = [
    ["a telemarketer pulls a lead from AMQ into TA", person("telemarketer"), AMQ, TA, true],
    ["a telemarketer passes a lead from TQ to sales acceptance", person("telemarketer"), TQ, SA, true],
    ["a telemarketer moves a lead back out of TA", person("telemarketer"), TA, "inquiry", true],
    ["a telemarketer reorders inside TQ", person("telemarketer"), TQ, TQ, true],
    ["a telemarketer's gate in TQ that leads nowhere", person("telemarketer"), TQ, null, true],
    ["a telemarketer moves inquiry to AMQ", person("telemarketer"), "inquiry", AMQ, false],
    ["a telemarketer jumps AMQ to sales acceptance", person("telemarketer"), AMQ, SA, false],
    ["a telemarketer reorders inside inquiry", person("telemarketer"), "inquiry", "inquiry", false],
    ["a telemarketer's gate in sales acceptance that leads nowhere", person("telemarketer"), SA, null, false],
    ["a marketer moves anywhere", person("marketer"), "inquiry", AMQ, true],
    ["a sales manager moves anywhere", person("sales_manager"), AMQ, SA, true],
    ["an API key is not stage-bound", writeKey, "inquiry", AMQ, true],
  ];
  it.each(cases)("%s", (_name, who, from, to, allowed) => {
    const problem = stageWorkProblem(who, stage(from), to === null ? null : stage(to));
    if (allowed) expect(problem).toBeNull();
    else expect(problem).toMatch(/^Telemarketers work the teleprospecting stages/);
  });
});

describe("planMove", () => {
  const plan = (who: Principal, facts: LeadFacts, from: string, to: string, override = false) =>
    planMove(who, facts, stage(from), stage(to), override);
  const allowed = (ticks: string[], skipped: string[] = []): MovePlan => ({ allowed: true, ticks, skipped }) as MovePlan;

  it.each<[string, Principal, LeadFacts, string, string, boolean, Partial<MovePlan>]>([
    ["a marketer's drag from AMQ to TA ticks ready for teleprospecting", person("marketer"), lead(), AMQ, TA, false, allowed(["ready_for_teleprospecting"])],
    ["a telemarketer's drag from TA to TQ accepts the lead", person("telemarketer"), lead({ readyForTeleprospecting: true }), TA, TQ, false, allowed(["teleprospecting_accepted"])],
    ["a marketer may not accept for teleprospecting", person("marketer"), lead({ readyForTeleprospecting: true }), TA, TQ, false, { allowed: false, code: "FORBIDDEN", gate: "teleprospecting_accepted" }],
    ["a salesperson may not mark sales-ready by a drag", person("salesperson"), lead(), AMQ, SA, false, { allowed: false, code: "FORBIDDEN", gate: "sales_ready" }],
    ["a gate already met needs no gate action", person("salesperson"), lead({ salesReady: true }), AMQ, SA, false, allowed([])],
    ["an unmet requirement is ILLEGAL_TRANSITION before any gate", person("salesperson"), lead({ contactId: null }), AMQ, SA, false, { allowed: false, code: "ILLEGAL_TRANSITION", missing: ["has_parent"] }],
    ["a write key may move where nothing is ticked", writeKey, lead(), "inquiry", AMQ, false, allowed([])],
    ["a write key never ticks a gate", writeKey, lead(), AMQ, TA, false, { allowed: false, code: "FORBIDDEN", gate: "ready_for_teleprospecting" }],
    ["moving back needs nothing", person("salesperson"), lead({ salesReady: true }), SA, "inquiry", false, allowed([])],
    ["an override skips what the target needs", person("sales_manager"), lead(), "inquiry", TQ, true, allowed([], ["teleprospecting_accepted"])],
    ["an override ticks the gates its mover holds", person("sales_manager"), lead({ contactId: null }), AMQ, SA, true, allowed(["sales_ready"], ["has_parent"])],
    ["an override skips a gate its mover may not tick", person("sales_manager"), lead({ readyForTeleprospecting: true }), TA, TQ, true, allowed([], ["teleprospecting_accepted"])],
    ["an override that was not needed skips nothing", person("admin"), lead(), AMQ, TA, true, allowed(["ready_for_teleprospecting"], [])],
    ["an override backwards skips nothing", person("admin"), lead(), SA, "inquiry", true, allowed([], [])],
  ])("%s", (_name, who, facts, from, to, override, expected) => {
    expect(plan(who, facts, from, to, override)).toMatchObject(expected);
  });

  it("names the refused gate in a readable message", () => {
    const refused = plan(writeKey, lead(), AMQ, TA);
    expect(refused).toMatchObject({ message: 'This API key may not tick or untick the gate "ready for teleprospecting" (gate.ready_for_teleprospecting)' });
  });
});
