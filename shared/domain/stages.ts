/**
 * Business process rules: which stage a lead may enter, and why not.
 * Pure: the client runs the same check while dragging, the server is the authority.
 */
import type { StageTimeLimits } from "./stage-age.ts";

/** A fact about a lead that a stage can require before the lead enters it. */
export const requirementKeys = [
  "has_parent",
  "ready_for_teleprospecting",
  "teleprospecting_accepted",
  "sales_ready",
  "sales_accepted",
  "has_owner",
] as const;
export type RequirementKey = (typeof requirementKeys)[number];

export const requirementLabels: Record<RequirementKey, string> = {
  has_parent: "a parent contact or account",
  ready_for_teleprospecting: "ready for teleprospecting",
  teleprospecting_accepted: "teleprospecting accepted",
  sales_ready: "sales ready",
  sales_accepted: "sales accepted",
  has_owner: "an assigned salesperson",
};

/** The checkboxes of a lead: each completes a stage's gate. */
export const leadFlags = ["ready_for_teleprospecting", "teleprospecting_accepted", "sales_ready", "sales_accepted"] as const;
export type LeadFlag = (typeof leadFlags)[number];

export const flagProperty = {
  ready_for_teleprospecting: "readyForTeleprospecting",
  teleprospecting_accepted: "teleprospectingAccepted",
  sales_ready: "salesReady",
  sales_accepted: "salesAccepted",
} as const satisfies Record<LeadFlag, keyof LeadFacts>;

export const isLeadFlag = (key: string): key is LeadFlag => (leadFlags as readonly string[]).includes(key);

export const stageFieldTypes = ["text", "number", "choice", "user", "checkbox"] as const;
export interface StageField {
  key: string;
  label: string;
  type: (typeof stageFieldTypes)[number];
  /** For "choice" fields. */
  options?: string[];
}

export interface StageRule {
  id: string;
  key: string;
  name: string;
  position: number;
  /** All must hold for a lead to enter this stage moving forward. */
  entryRequirements: RequirementKey[];
  /** Ticking this flag while the lead is in this stage advances it to the next stage. */
  gateFlag: LeadFlag | null;
  /** A lead that becomes sales-ready in this stage jumps to the first stage that needs sales-ready. */
  salesReadyJump: boolean;
}

export interface LeadFacts {
  contactId: string | null;
  accountId: string | null;
  readyForTeleprospecting: boolean;
  teleprospectingAccepted: boolean;
  salesReady: boolean;
  salesAccepted: boolean;
  ownerId: string | null;
}

export type TransitionCheck =
  | {
      allowed: true;
      direction: "forward" | "backward" | "same";
      /** Flags the move itself sets: dragging a lead past a gate is the gate's act. */
      ticks: LeadFlag[];
    }
  | { allowed: false; missing: RequirementKey[]; message: string };

export function meetsRequirement(lead: LeadFacts, requirement: RequirementKey): boolean {
  switch (requirement) {
    case "has_parent":
      return lead.contactId !== null || lead.accountId !== null;
    case "ready_for_teleprospecting":
      return lead.readyForTeleprospecting;
    case "teleprospecting_accepted":
      return lead.teleprospectingAccepted;
    case "sales_ready":
      return lead.salesReady;
    case "sales_accepted":
      return lead.salesAccepted;
    case "has_owner":
      return lead.ownerId !== null;
  }
}

/**
 * The flags a forward move from `from` to `to` provides by itself: leaving a stage past
 * its gate ticks that gate (a telemarketer dragging from Teleprospecting acceptance to
 * qualification accepts the lead), and a stage that jumps on sales-ready lets a drag to
 * the sales-ready stage mark the lead sales-ready by hand. Parents and owners are never
 * provided by a drag.
 */
export function flagsProvidedByMove(from: StageRule, to: StageRule): LeadFlag[] {
  if (to.position <= from.position) return [];
  const provided: LeadFlag[] = [];
  if (from.gateFlag && to.entryRequirements.includes(from.gateFlag)) provided.push(from.gateFlag);
  if (from.salesReadyJump && to.entryRequirements.includes("sales_ready") && !provided.includes("sales_ready")) {
    provided.push("sales_ready");
  }
  return provided;
}

function describeMissing(target: string, missing: RequirementKey[]): string {
  return `${target} needs ${missing.map((r) => requirementLabels[r]).join(" and ")}`;
}

/**
 * Forward moves must meet the target stage's entry requirements, counting the flags the
 * move itself ticks. Moving back to an earlier stage reopens work and has no gate.
 * An override skips the gate altogether; who may override is a permission, not a rule here.
 */
export function checkTransition(
  lead: LeadFacts,
  from: StageRule,
  to: StageRule,
  override = false,
): TransitionCheck {
  if (from.id === to.id) return { allowed: true, direction: "same", ticks: [] };
  if (to.position < from.position) return { allowed: true, direction: "backward", ticks: [] };
  const provided = flagsProvidedByMove(from, to);
  const unmet = to.entryRequirements.filter((r) => !meetsRequirement(lead, r));
  const ticks = provided.filter((f) => unmet.includes(f));
  if (override) return { allowed: true, direction: "forward", ticks };
  const missing = unmet.filter((r) => !(provided as string[]).includes(r));
  if (missing.length === 0) return { allowed: true, direction: "forward", ticks };
  return { allowed: false, missing, message: describeMissing(to.name, missing) };
}

/**
 * Where ticking `flag` takes a lead that sits in `current`: to the next stage when the
 * flag is this stage's gate, straight to the sales-ready stage when the lead becomes
 * sales-ready in a stage that jumps; otherwise it stays (null).
 */
export function stageAfterFlag(stagesInOrder: StageRule[], current: StageRule, flag: LeadFlag): StageRule | null {
  if (flag === "sales_ready" && current.salesReadyJump) {
    const target = stagesInOrder.find((s) => s.position > current.position && s.entryRequirements.includes("sales_ready"));
    if (target) return target;
  }
  if (current.gateFlag === flag) {
    return stagesInOrder.find((s) => s.position > current.position) ?? null;
  }
  return null;
}

/** What a lead still lacks before it can be converted to an opportunity. */
export function missingForConversion(lead: LeadFacts, requirements: RequirementKey[]): RequirementKey[] {
  return requirements.filter((r) => !meetsRequirement(lead, r));
}

export function conversionMessage(missing: RequirementKey[]): string {
  return describeMissing("Converting to an opportunity", missing);
}

/** The default process of every database; keys are part of the outside contract. */
export const defaultProcessName = "Lead to opportunity marketing sales process";

/**
 * The default process's stages, with how long a lead may wait in each before its card
 * turns amber, then red (migration 0003 gives an existing default process the same limits).
 */
export const defaultStages: Array<Omit<StageRule, "id"> & { timeLimits: StageTimeLimits | null }> = [
  {
    key: "inquiry",
    name: "Inquiry",
    position: 0,
    entryRequirements: [],
    gateFlag: null,
    salesReadyJump: true,
    timeLimits: { amberAfterHours: 24, redAfterHours: 72 },
  },
  {
    key: "automated_marketing_qualification",
    name: "Automated marketing qualification",
    position: 1,
    entryRequirements: ["has_parent"],
    gateFlag: "ready_for_teleprospecting",
    salesReadyJump: true,
    timeLimits: { amberAfterHours: 48, redAfterHours: 120 },
  },
  {
    key: "teleprospecting_acceptance",
    name: "Teleprospecting acceptance",
    position: 2,
    entryRequirements: ["has_parent", "ready_for_teleprospecting"],
    gateFlag: "teleprospecting_accepted",
    salesReadyJump: false,
    timeLimits: { amberAfterHours: 72, redAfterHours: 168 },
  },
  {
    key: "teleprospecting_qualification",
    name: "Teleprospecting qualification",
    position: 3,
    entryRequirements: ["has_parent", "teleprospecting_accepted"],
    gateFlag: "sales_ready",
    salesReadyJump: false,
    timeLimits: { amberAfterHours: 72, redAfterHours: 168 },
  },
  {
    key: "sales_acceptance",
    name: "Sales acceptance",
    position: 4,
    entryRequirements: ["has_parent", "sales_ready"],
    gateFlag: "sales_accepted",
    salesReadyJump: false,
    timeLimits: { amberAfterHours: 48, redAfterHours: 120 },
  },
];
