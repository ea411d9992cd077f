import { dayMs, type BehaviorCondition, type BehaviorCounter, type ScoringCondition, type ScoringRules, type ScoringSubject } from "../../shared/domain/scoring.ts";

/** Inputs for the pure scoring rules' table tests, at a fixed moment. */
export const now = new Date("2026-06-01T12:00:00.000Z");
export const at = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString();
export const daysAgo = (days: number) => at(-days * dayMs);

export const rules = (conditions: ScoringCondition[], overrides: Partial<ScoringRules> = {}): ScoringRules => ({
  target: "contact",
  threshold: 100,
  grades: [],
  conditions,
  ...overrides,
});

export const counter = (contactId: string, count: number, times: string[] | null = null): BehaviorCounter => ({
  contactId,
  count,
  times,
  lastAt: times?.[0] ?? now.toISOString(),
});

export const subject = (
  counters: Array<[number, BehaviorCounter[]]> = [],
  facts: Partial<Pick<ScoringSubject, "contact" | "account">> = {},
): ScoringSubject => ({
  contact: facts.contact === undefined ? {} : facts.contact,
  account: facts.account === undefined ? {} : facts.account,
  counters: new Map(counters),
});

export const behavior = (overrides: Partial<BehaviorCondition> = {}): BehaviorCondition => ({
  kind: "behavior",
  interaction: "form_submitted",
  points: 10,
  frequency: "each",
  ...overrides,
});

