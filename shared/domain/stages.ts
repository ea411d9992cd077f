/**
 * Business process rules: which stage a lead may enter, and why not.
 * Pure: the client runs the same check while dragging, the server is the authority.
 */

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

export interface StageRule {
  id: string;
  key: string;
  name: string;
  position: number;
  /** All must hold for a lead to enter this stage moving forward. */
  entryRequirements: RequirementKey[];
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
  | { allowed: true; direction: "forward" | "backward" | "same" }
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
 * Forward moves must meet the target stage's entry requirements (which is how
 * Automated marketing qualification may jump straight to Sales acceptance once the
 * lead is sales-ready). Moving back to an earlier stage reopens work and has no gate.
 * An override skips the gate altogether; who may override is a permission, not a rule here.
 */
export function checkTransition(
  lead: LeadFacts,
  from: StageRule,
  to: StageRule,
  override = false,
): TransitionCheck {
  if (from.id === to.id) return { allowed: true, direction: "same" };
  if (to.position < from.position) return { allowed: true, direction: "backward" };
  if (override) return { allowed: true, direction: "forward" };
  const missing = to.entryRequirements.filter((r) => !meetsRequirement(lead, r));
  if (missing.length === 0) return { allowed: true, direction: "forward" };
  return {
    allowed: false,
    missing,
    message: `${to.name} needs ${missing.map((r) => requirementLabels[r]).join(" and ")}`,
  };
}

/** The default process of every database; keys are part of the outside contract. */
export const defaultProcessName = "Lead to opportunity marketing sales process";

export const defaultStages: Array<Omit<StageRule, "id">> = [
  { key: "inquiry", name: "Inquiry", position: 0, entryRequirements: [] },
  {
    key: "automated_marketing_qualification",
    name: "Automated marketing qualification",
    position: 1,
    entryRequirements: ["has_parent"],
  },
  {
    key: "teleprospecting_acceptance",
    name: "Teleprospecting acceptance",
    position: 2,
    entryRequirements: ["has_parent", "ready_for_teleprospecting"],
  },
  {
    key: "teleprospecting_qualification",
    name: "Teleprospecting qualification",
    position: 3,
    entryRequirements: ["has_parent", "teleprospecting_accepted"],
  },
  {
    key: "sales_acceptance",
    name: "Sales acceptance",
    position: 4,
    entryRequirements: ["has_parent", "sales_ready"],
  },
];
