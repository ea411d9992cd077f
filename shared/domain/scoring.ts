/**
 * Lead scoring rules. Pure: the server evaluates live scores and previews with these, the
 * client labels conditions with them. The clock is always passed in.
 *
 * A model's target says which leads it scores and from whose interactions:
 * - "contact" models score leads that have a contact, from that contact's interactions
 *   and fields plus its account's fields;
 * - "account" models score leads that have an account (their own, or their contact's),
 *   from the interactions of every contact of that account.
 * A lead with neither contact nor account is unscorable.
 */

export const interactionTypes = [
  "email_opened",
  "email_clicked",
  "form_submitted",
  "website_visited",
  "event_registered",
  "event_attended",
] as const;
export type InteractionType = (typeof interactionTypes)[number];

export const interactionLabels: Record<InteractionType, string> = {
  email_opened: "email opened",
  email_clicked: "email link clicked",
  form_submitted: "form submitted",
  website_visited: "website visited",
  event_registered: "registered for an event",
  event_attended: "attended an event",
};

export const modelTargets = ["contact", "account"] as const;
export type ModelTarget = (typeof modelTargets)[number];
export const modelStatuses = ["draft", "live"] as const;
export type ModelStatus = (typeof modelStatuses)[number];

export const frequencies = ["each", "once", "none"] as const;
export type Frequency = (typeof frequencies)[number];

export const fieldOps = ["eq", "neq", "in", "contains", "exists", "gt", "gte", "lt", "lte"] as const;
export type FieldOp = (typeof fieldOps)[number];

export type ScoringFieldType = "text" | "number";

/** The fields conditions may test: an allow-list, so models never reach other columns. */
export const scoringFields = {
  contact: {
    jobTitle: { type: "text", label: "Job title" },
    country: { type: "text", label: "Country" },
    email: { type: "text", label: "Email" },
    phone: { type: "text", label: "Phone" },
    firstName: { type: "text", label: "First name" },
    lastName: { type: "text", label: "Last name" },
    source: { type: "text", label: "Source" },
  },
  account: {
    name: { type: "text", label: "Account name" },
    industry: { type: "text", label: "Industry" },
    employeeCount: { type: "number", label: "Employees" },
    annualRevenue: { type: "number", label: "Annual revenue" },
    country: { type: "text", label: "Account country" },
    websiteDomain: { type: "text", label: "Website domain" },
  },
} as const satisfies Record<"contact" | "account", Record<string, { type: ScoringFieldType; label: string }>>;

export type ContactField = keyof typeof scoringFields.contact;
export type AccountField = keyof typeof scoringFields.account;

export const opsByFieldType: Record<ScoringFieldType, readonly FieldOp[]> = {
  text: ["eq", "neq", "in", "contains", "exists"],
  number: ["eq", "neq", "in", "gt", "gte", "lt", "lte", "exists"],
};

export const opLabels: Record<FieldOp, string> = {
  eq: "is",
  neq: "is not",
  in: "is one of",
  contains: "contains",
  exists: "is set",
  gt: ">",
  gte: "≥",
  lt: "<",
  lte: "≤",
};

export interface BehaviorCondition {
  kind: "behavior";
  interaction: InteractionType;
  points: number;
  frequency: Frequency;
  /** For "once": how many occurrences earn the points (default 1). */
  minCount?: number | undefined;
  /** Only occurrences of the last N days count: from the moment it happened up to, not including, N days later. */
  withinDays?: number | undefined;
  /** Only interactions tied to the lead's own form, event or campaign. */
  sameContext?: boolean | undefined;
}

export interface FieldCondition {
  kind: "contact" | "account";
  field: string;
  op: FieldOp;
  value?: string | number | Array<string | number> | undefined;
  points: number;
}

export type ScoringCondition = BehaviorCondition | FieldCondition;

export interface GradeBand {
  grade: string;
  min: number;
  max: number;
}

/** What evaluation needs of a model. */
export interface ScoringRules {
  target: ModelTarget;
  threshold: number;
  grades: GradeBand[];
  conditions: ScoringCondition[];
}

export const dayMs = 86_400_000;

/**
 * How many of a behaviour condition's most recent occurrences must be kept to evaluate it
 * inside its window: all of them for "each", `minCount` for "once", the latest for "none".
 */
export function timesToKeep(condition: BehaviorCondition): number | null {
  if (condition.withinDays === undefined) return null;
  if (condition.frequency === "each") return null;
  if (condition.frequency === "once") return condition.minCount ?? 1;
  return 1;
}

/**
 * A behaviour condition's running counter for one contributing contact. `count` counts every
 * matching interaction ever recorded; `times` (windowed conditions only) holds the most
 * recent occurrence times that may still be inside the window, newest first.
 */
export interface BehaviorCounter {
  contactId: string;
  count: number;
  times: string[] | null;
  lastAt: string;
}

export interface ScoringSubject {
  contact: Partial<Record<ContactField, string | number | null>> | null;
  account: Partial<Record<AccountField, string | number | null>> | null;
  /** Counters per condition index (behaviour conditions only). */
  counters: ReadonlyMap<number, readonly BehaviorCounter[]>;
}

export interface BreakdownContributor {
  contactId: string;
  count: number;
}

/** One condition that contributed to a score. */
export interface BreakdownItem {
  condition: number;
  kind: ScoringCondition["kind"];
  label: string;
  points: number;
  /** Behaviour conditions: how many occurrences were counted (inside the window). */
  count?: number;
  /** Behaviour conditions: who did them (for account models, every contributing contact). */
  contributors?: BreakdownContributor[];
}

export interface Evaluation {
  score: number;
  grade: string | null;
  breakdown: BreakdownItem[];
  /** The moment the oldest counted occurrence leaves its window: the score must be re-evaluated then. */
  nextExpiryAt: string | null;
}

/** Whether an occurrence at `at` counts at `now` for a window of `withinDays`. */
export function insideWindow(at: number, withinDays: number, now: number): boolean {
  return at <= now && now < at + withinDays * dayMs;
}

function normalizeText(value: unknown): string {
  return String(value).trim().toLowerCase();
}

function present(value: unknown): boolean {
  return value !== null && value !== undefined && !(typeof value === "string" && value.trim() === "");
}

/** Field tests compare text case-insensitively and numbers numerically; a missing value fails all but `neq`. */
export function fieldMatches(actual: unknown, op: FieldOp, expected: FieldCondition["value"]): boolean {
  if (op === "exists") return present(actual);
  if (!present(actual)) return op === "neq";
  const numeric = typeof actual === "number";
  const same = (candidate: string | number) =>
    numeric ? Number(candidate) === actual : normalizeText(candidate) === normalizeText(actual);
  switch (op) {
    case "eq":
      return expected !== undefined && !Array.isArray(expected) && same(expected);
    case "neq":
      return expected !== undefined && !Array.isArray(expected) && !same(expected);
    case "in":
      return Array.isArray(expected) && expected.some(same);
    case "contains":
      return typeof expected === "string" && normalizeText(actual).includes(normalizeText(expected));
    case "gt":
      return Number(actual) > Number(expected);
    case "gte":
      return Number(actual) >= Number(expected);
    case "lt":
      return Number(actual) < Number(expected);
    case "lte":
      return Number(actual) <= Number(expected);
  }
}

function fieldLabel(kind: "contact" | "account", field: string): string {
  const fields: Record<string, { label: string }> = scoringFields[kind];
  return fields[field]?.label ?? field;
}

/** A short human description of a condition ("form submitted, each, last 30 days"). */
export function describeCondition(condition: ScoringCondition): string {
  if (condition.kind === "behavior") {
    const what = interactionLabels[condition.interaction];
    const how =
      condition.frequency === "each"
        ? "each time"
        : condition.frequency === "once"
          ? (condition.minCount ?? 1) > 1
            ? `at least ${condition.minCount} times`
            : "at least once"
          : "never";
    const window = condition.withinDays !== undefined ? `, last ${condition.withinDays} day${condition.withinDays === 1 ? "" : "s"}` : "";
    const context = condition.sameContext ? ", same campaign/form/event" : "";
    return `${what}: ${how}${window}${context}`;
  }
  const value = Array.isArray(condition.value) ? condition.value.join(", ") : condition.value;
  const suffix = condition.op === "exists" ? "" : ` ${value ?? ""}`;
  return `${fieldLabel(condition.kind, condition.field)} ${opLabels[condition.op]}${suffix}`;
}

/** The grade of a score. Bands are continuous; scores beyond the outermost bands take those bands. */
export function gradeFor(grades: readonly GradeBand[], score: number): string | null {
  if (grades.length === 0) return null;
  const sorted = [...grades].sort((a, b) => a.min - b.min);
  for (const band of sorted) if (score >= band.min && score <= band.max) return band.grade;
  const lowest = sorted[0]!;
  const highest = sorted[sorted.length - 1]!;
  if (score < lowest.min) return lowest.grade;
  if (score > highest.max) return highest.grade;
  return null;
}

interface Counted {
  count: number;
  contributors: BreakdownContributor[];
  oldest: number | null;
}

function countOccurrences(condition: BehaviorCondition, counters: readonly BehaviorCounter[], now: number): Counted {
  let count = 0;
  let oldest: number | null = null;
  const contributors: BreakdownContributor[] = [];
  for (const counter of counters) {
    let n = counter.count;
    if (condition.withinDays !== undefined) {
      n = 0;
      for (const time of counter.times ?? []) {
        const at = Date.parse(time);
        if (!insideWindow(at, condition.withinDays, now)) continue;
        n++;
        if (oldest === null || at < oldest) oldest = at;
      }
    }
    if (n > 0) contributors.push({ contactId: counter.contactId, count: n });
    count += n;
  }
  contributors.sort((a, b) => b.count - a.count || a.contactId.localeCompare(b.contactId));
  return { count, contributors, oldest };
}

/** The score, grade and breakdown of one lead under one model at `now`. */
export function evaluateLead(rules: ScoringRules, subject: ScoringSubject, now: Date): Evaluation {
  const at = now.getTime();
  let score = 0;
  let nextExpiry: number | null = null;
  const breakdown: BreakdownItem[] = [];
  rules.conditions.forEach((condition, index) => {
    const label = describeCondition(condition);
    if (condition.kind !== "behavior") {
      const record = condition.kind === "contact" ? subject.contact : subject.account;
      const actual = record ? (record as Record<string, unknown>)[condition.field] : null;
      if (record && fieldMatches(actual, condition.op, condition.value) && condition.points !== 0) {
        score += condition.points;
        breakdown.push({ condition: index, kind: condition.kind, label, points: condition.points });
      }
      return;
    }
    const counted = countOccurrences(condition, subject.counters.get(index) ?? [], at);
    if (counted.oldest !== null && condition.withinDays !== undefined) {
      const expiry = counted.oldest + condition.withinDays * dayMs;
      if (nextExpiry === null || expiry < nextExpiry) nextExpiry = expiry;
    }
    const points =
      condition.frequency === "each"
        ? condition.points * counted.count
        : condition.frequency === "once"
          ? counted.count >= (condition.minCount ?? 1)
            ? condition.points
            : 0
          : counted.count === 0
            ? condition.points
            : 0;
    if (points === 0) return;
    score += points;
    breakdown.push({ condition: index, kind: "behavior", label, points, count: counted.count, contributors: counted.contributors });
  });
  return {
    score,
    grade: gradeFor(rules.grades, score),
    breakdown,
    nextExpiryAt: nextExpiry === null ? null : new Date(nextExpiry).toISOString(),
  };
}

/** The lead facts that decide which models score it and which interactions count. */
export interface LeadScope {
  contactId: string | null;
  /** The lead's own account, or its contact's. */
  accountId: string | null;
}

export function isScorable(lead: { contactId: string | null; accountId: string | null }): boolean {
  return lead.contactId !== null || lead.accountId !== null;
}

/** Whether a model of this target scores this lead. */
export function modelApplies(target: ModelTarget, lead: LeadScope): boolean {
  return target === "contact" ? lead.contactId !== null : lead.accountId !== null;
}

export interface MarketingContext {
  formId: string | null;
  eventId: string | null;
  campaign: string | null;
}

/** An interaction tied to the lead's own form, event or campaign. */
export function sameContext(lead: MarketingContext, interaction: MarketingContext): boolean {
  return (
    (lead.formId !== null && interaction.formId === lead.formId) ||
    (lead.eventId !== null && interaction.eventId === lead.eventId) ||
    (lead.campaign !== null && interaction.campaign === lead.campaign)
  );
}

/** Whether an interaction feeds a behaviour condition for a lead (the contact scope is checked by the caller). */
export function interactionCounts(condition: BehaviorCondition, lead: MarketingContext, interaction: MarketingContext & { type: InteractionType }): boolean {
  if (condition.interaction !== interaction.type) return false;
  return !condition.sameContext || sameContext(lead, interaction);
}

/**
 * A model's own sales-ready state for a lead. Reaching the threshold marks it; a later drop
 * clears it only when the model does not keep sales-ready leads (hysteresis is a choice per model).
 */
export function salesReadyAfter(
  previous: boolean,
  score: number,
  threshold: number,
  keepSalesReady: boolean,
): { salesReady: boolean; crossed: boolean; dropped: boolean } {
  const reached = score >= threshold;
  if (reached) return { salesReady: true, crossed: !previous, dropped: false };
  if (previous && keepSalesReady) return { salesReady: true, crossed: false, dropped: false };
  return { salesReady: false, crossed: false, dropped: previous };
}

export type Trend = "up" | "down" | "flat";

export function trendOf(score: number, previous: number | null): Trend {
  if (previous === null || previous === score) return "flat";
  return score > previous ? "up" : "down";
}
