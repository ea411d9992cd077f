import { z } from "zod";
import {
  fieldOps,
  frequencies,
  interactionTypes,
  modelStatuses,
  modelTargets,
  opsByFieldType,
  scoringFields,
  type ScoringCondition,
  type ScoringFieldType,
} from "../domain/scoring.ts";
import { id } from "./common.ts";

/** Bounds past which a value is a mistake, not a model. */
export const scoringLimits = {
  points: 1_000,
  threshold: 100_000,
  withinDays: 3_650,
  minCount: 1_000,
  conditions: 50,
  grades: 12,
  inValues: 100,
  text: 200,
} as const;

const points = z
  .number({ message: "must be a number" })
  .int("must be a whole number")
  .min(-scoringLimits.points, `must be at least -${scoringLimits.points}`)
  .max(scoringLimits.points, `must be at most ${scoringLimits.points}`);

export const behaviorCondition = z.strictObject({
  kind: z.literal("behavior"),
  interaction: z.enum(interactionTypes, { message: `must be one of ${interactionTypes.join(", ")}` }),
  points,
  frequency: z.enum(frequencies, { message: "must be each, once or none" }),
  minCount: z.number().int("must be a whole number").min(1, "must be at least 1").max(scoringLimits.minCount).optional(),
  withinDays: z
    .number()
    .int("must be a whole number of days")
    .min(1, "must be at least 1 day")
    .max(scoringLimits.withinDays, `must be at most ${scoringLimits.withinDays} days`)
    .optional(),
  sameContext: z.boolean().optional(),
});

const fieldValue = z.union([
  z.string().trim().min(1, "must not be empty").max(scoringLimits.text),
  z.number().finite(),
  z
    .array(z.union([z.string().trim().min(1).max(scoringLimits.text), z.number().finite()]))
    .min(1, "must list at least one value")
    .max(scoringLimits.inValues),
]);

export const fieldCondition = z.strictObject({
  kind: z.enum(["contact", "account"]),
  field: z.string().min(1).max(64),
  op: z.enum(fieldOps, { message: `must be one of ${fieldOps.join(", ")}` }),
  value: fieldValue.optional(),
  points,
});

export const scoringCondition = z.discriminatedUnion("kind", [behaviorCondition, fieldCondition], {
  message: 'kind must be "behavior", "contact" or "account"',
});

export const gradeBand = z.strictObject({
  grade: z.string().trim().min(1, "must not be empty").max(16, "must be at most 16 characters"),
  min: z.number().int("must be a whole number").min(-scoringLimits.threshold).max(scoringLimits.threshold),
  max: z.number().int("must be a whole number").min(-scoringLimits.threshold).max(scoringLimits.threshold),
});

const modelFields = {
  name: z.string().trim().min(1, "must not be empty").max(120, "must be at most 120 characters"),
  target: z.enum(modelTargets, { message: 'must be "contact" or "account"' }),
  threshold: z
    .number({ message: "must be a number" })
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(scoringLimits.threshold, `must be at most ${scoringLimits.threshold}`),
  status: z.enum(modelStatuses, { message: 'must be "draft" or "live"' }),
  grades: z.array(gradeBand).max(scoringLimits.grades, `at most ${scoringLimits.grades} grades`),
  conditions: z
    .array(scoringCondition)
    .min(1, "a model needs at least one condition")
    .max(scoringLimits.conditions, `at most ${scoringLimits.conditions} conditions`),
  /** Whether a lead stays sales-ready when its score later drops below the threshold. */
  keepSalesReady: z.boolean(),
};

export interface Problem {
  field: string;
  message: string;
}

type ModelShape = {
  target: (typeof modelTargets)[number];
  grades: Array<{ grade: string; min: number; max: number }>;
  conditions: ScoringCondition[];
};

/** What zod cannot say alone: grades that overlap or leave gaps, unknown fields, values of the wrong kind. */
export function modelProblems(model: ModelShape): Problem[] {
  const problems: Problem[] = [];
  const sorted = model.grades.map((g, index) => ({ ...g, index })).sort((a, b) => a.min - b.min);
  const names = new Set<string>();
  for (const [position, band] of sorted.entries()) {
    if (band.min > band.max) problems.push({ field: `grades.${band.index}`, message: `min (${band.min}) is above max (${band.max})` });
    const key = band.grade.toLowerCase();
    if (names.has(key)) problems.push({ field: `grades.${band.index}.grade`, message: `grade "${band.grade}" appears twice` });
    names.add(key);
    const previous = sorted[position - 1];
    if (!previous) continue;
    if (band.min <= previous.max) {
      problems.push({ field: `grades.${band.index}`, message: `${band.grade} (${band.min}-${band.max}) overlaps ${previous.grade} (${previous.min}-${previous.max})` });
    } else if (band.min > previous.max + 1) {
      problems.push({ field: `grades.${band.index}`, message: `scores ${previous.max + 1}-${band.min - 1} have no grade between ${previous.grade} and ${band.grade}` });
    }
  }
  model.conditions.forEach((condition, index) => {
    const at = `conditions.${index}`;
    if (condition.kind === "behavior") {
      if (condition.minCount !== undefined && condition.frequency !== "once") {
        problems.push({ field: `${at}.minCount`, message: 'minCount only applies to frequency "once"' });
      }
      return;
    }
    if (condition.kind === "contact" && model.target === "account") {
      problems.push({ field: `${at}.kind`, message: "an account model scores the account's fields and its contacts' interactions, not one contact's fields" });
      return;
    }
    const fields: Record<string, { type: ScoringFieldType }> = scoringFields[condition.kind];
    const spec = fields[condition.field];
    if (!spec) {
      problems.push({ field: `${at}.field`, message: `unknown ${condition.kind} field "${condition.field}"; known: ${Object.keys(fields).join(", ")}` });
      return;
    }
    if (!opsByFieldType[spec.type].includes(condition.op)) {
      problems.push({ field: `${at}.op`, message: `"${condition.op}" does not apply to ${spec.type} field ${condition.field}` });
      return;
    }
    const value = condition.value;
    if (condition.op === "exists") {
      if (value !== undefined) problems.push({ field: `${at}.value`, message: '"exists" takes no value' });
      return;
    }
    if (value === undefined) {
      problems.push({ field: `${at}.value`, message: "a value is required" });
      return;
    }
    if (condition.op === "in" !== Array.isArray(value)) {
      problems.push({ field: `${at}.value`, message: condition.op === "in" ? '"in" takes a list of values' : "must be a single value" });
      return;
    }
    const values = Array.isArray(value) ? value : [value];
    const wrong = spec.type === "number" ? values.some((v) => typeof v !== "number") : values.some((v) => typeof v !== "string");
    if (wrong) problems.push({ field: `${at}.value`, message: spec.type === "number" ? "must be a number" : "must be text" });
  });
  return problems;
}

function refineModel(model: ModelShape, ctx: z.RefinementCtx) {
  for (const problem of modelProblems(model)) {
    ctx.addIssue({ code: "custom", path: problem.field.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)), message: problem.message });
  }
}

export const scoringModelInput = z
  .strictObject({
    ...modelFields,
    status: modelFields.status.default("draft"),
    grades: modelFields.grades.default([]),
    keepSalesReady: modelFields.keepSalesReady.default(true),
  })
  .superRefine(refineModel);
export type ScoringModelInput = z.infer<typeof scoringModelInput>;

/** A PATCH names what changes; the merged model is checked again by the service. */
export const scoringModelPatch = z
  .strictObject({
    expectedVersion: z.number().int().min(1).optional(),
    name: modelFields.name.optional(),
    target: modelFields.target.optional(),
    threshold: modelFields.threshold.optional(),
    status: modelFields.status.optional(),
    grades: modelFields.grades.optional(),
    conditions: modelFields.conditions.optional(),
    keepSalesReady: modelFields.keepSalesReady.optional(),
  })
  .refine((patch) => Object.keys(patch).some((key) => key !== "expectedVersion"), { message: "nothing to change" });
export type ScoringModelPatch = z.infer<typeof scoringModelPatch>;

/** A what-if: the stored model, or an edit of it that is not saved. */
export const scoringPreviewInput = z
  .strictObject({
    target: modelFields.target.optional(),
    threshold: modelFields.threshold.optional(),
    grades: modelFields.grades.optional(),
    conditions: modelFields.conditions.optional(),
    keepSalesReady: modelFields.keepSalesReady.optional(),
  })
  .default({});
export type ScoringPreviewInput = z.infer<typeof scoringPreviewInput>;

export const interactionInput = z
  .strictObject({
    type: z.enum(interactionTypes, { message: `must be one of ${interactionTypes.join(", ")}` }),
    contactId: id.optional(),
    email: z.email({ message: "must be an email address" }).max(320).optional(),
    occurredAt: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }).optional(),
    formId: id.optional(),
    eventId: id.optional(),
    campaign: z.string().trim().min(1).max(200).optional(),
    url: z.string().trim().max(2_000).optional(),
  })
  .refine((i) => (i.contactId === undefined) !== (i.email === undefined), { message: "name exactly one of contactId or email" });
export type InteractionInput = z.infer<typeof interactionInput>;

export const maxInteractionBatch = 5_000;

const anyItems = z.array(z.unknown());

/**
 * The batch is checked item by item by the service, so one bad item never rejects the rest.
 * Its size is checked after its shape: zod would otherwise report an oversized array as a
 * union mismatch and lose the message that says the limit.
 */
export const interactionBatch = z
  .union([anyItems, z.strictObject({ interactions: anyItems })], { message: "send an array of interactions, or {interactions: [...]}" })
  .superRefine((body, ctx) => {
    const items = Array.isArray(body) ? body : body.interactions;
    const path = Array.isArray(body) ? [] : ["interactions"];
    if (items.length === 0) ctx.addIssue({ code: "custom", path, message: "send at least one interaction" });
    if (items.length > maxInteractionBatch) ctx.addIssue({ code: "custom", path, message: `at most ${maxInteractionBatch} per request` });
  });

/** What the API answers about a model. */
export interface ScoringModelView {
  id: string;
  name: string;
  target: (typeof modelTargets)[number];
  threshold: number;
  status: (typeof modelStatuses)[number];
  grades: Array<{ grade: string; min: number; max: number }>;
  conditions: ScoringCondition[];
  keepSalesReady: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
  rescore: RescoreProgress | null;
}

export interface RescoreProgress {
  status: "running" | "done" | "failed";
  /** What the rescore does: score every lead with the model, or remove its scores (back to draft). */
  mode: "score" | "clear";
  total: number;
  processed: number;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

export interface ScorePreview {
  modelId: string | null;
  leadsConsidered: number;
  leadsScored: number;
  /** Leads at or above the threshold, and how many of those are not sales-ready today. */
  wouldBeSalesReady: number;
  wouldCrossThreshold: number;
  distribution: HistogramBucket[];
  grades: Array<{ grade: string; count: number }>;
  /** Leads whose grade or sales-ready state would change, most significant first (at most 50). */
  changes: PreviewChange[];
  changedTotal: number;
}

export interface HistogramBucket {
  min: number;
  max: number;
  count: number;
}

export interface PreviewChange {
  leadId: string;
  topic: string;
  currentScore: number | null;
  currentGrade: string | null;
  score: number;
  grade: string | null;
  salesReadyNow: boolean;
  salesReadyAfter: boolean;
}

export interface ModelInsights {
  modelId: string;
  leadsScored: number;
  distribution: HistogramBucket[];
  grades: Array<{ grade: string; count: number }>;
  /** The score at the top 10%: 90% of scored leads are below it. */
  top10PercentScore: number | null;
  salesReady: number;
  averageScore: number | null;
}

/** A score with what it is made of, for the card's popover and the lead drawer. */
export interface ScoreExplanation {
  modelId: string;
  modelName: string;
  threshold: number;
  score: number;
  grade: string | null;
  previousScore: number | null;
  salesReady: boolean;
  updatedAt: string;
  breakdown: Array<{
    condition: number;
    kind: "behavior" | "contact" | "account";
    label: string;
    points: number;
    count?: number;
    contributors?: Array<{ contactId: string; contactName: string | null; count: number }>;
    /** The latest interactions behind a behaviour condition, newest first (at most 3). */
    evidence?: Array<{ interactionId: string; type: string; at: string; contactId: string; contactName: string | null }>;
  }>;
}
