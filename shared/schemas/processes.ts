import { z } from "zod";
import type { BoardStage } from "../board.ts";
import { leadFlags, requirementKeys, stageFieldTypes } from "../domain/stages.ts";
import { id } from "./common.ts";

/**
 * Business processes as data: an ordered list of stages, each with its entry
 * requirements, typed fields and gate. Shared by the server and the process editor.
 */

const keyPattern = /^[a-z][a-z0-9_]{0,62}$/;
export const stageKey = z
  .string()
  .regex(keyPattern, "must start with a-z and use only a-z, 0-9 and _ (at most 63 characters)");

const requirementList = z
  .array(z.enum(requirementKeys))
  .max(requirementKeys.length)
  .refine((list) => new Set(list).size === list.length, "must not repeat a requirement");

export const stageFieldInput = z
  .strictObject({
    key: stageKey,
    label: z.string().trim().min(1).max(200),
    type: z.enum(stageFieldTypes),
    options: z.array(z.string().trim().min(1).max(200)).min(1).max(100).optional(),
  })
  .superRefine((field, ctx) => {
    if (field.type === "choice" && !field.options) {
      ctx.addIssue({ code: "custom", path: ["options"], message: "a choice field needs its options" });
    }
    if (field.type !== "choice" && field.options) {
      ctx.addIssue({ code: "custom", path: ["options"], message: "only choice fields have options" });
    }
    if (field.options && new Set(field.options).size !== field.options.length) {
      ctx.addIssue({ code: "custom", path: ["options"], message: "must not repeat an option" });
    }
  });

/** At most a year: a longer limit is no limit. */
export const maxLimitHours = 8760;

const limitHours = z
  .number({ error: "must be a whole number of hours (set both limits, or neither)" })
  .int("must be a whole number of hours")
  .min(1, "must be at least 1 hour")
  .max(maxLimitHours, `must be at most ${maxLimitHours} hours (a year)`);

/** How long a lead may sit in a stage before its card turns amber, then red. Null: no limits. */
export const stageTimeLimitsInput = z
  .strictObject({ amberAfterHours: limitHours, redAfterHours: limitHours })
  .superRefine((limits, ctx) => {
    if (limits.redAfterHours <= limits.amberAfterHours) {
      ctx.addIssue({
        code: "custom",
        path: ["redAfterHours"],
        message: `must be more than amber (${limits.amberAfterHours} h)`,
      });
    }
  });

const stageBase = z.strictObject({
  key: stageKey,
  name: z.string().trim().min(1).max(200),
  entryRequirements: requirementList.optional(),
  fields: z.array(stageFieldInput).max(50).optional(),
  gateFlag: z.enum(leadFlags).nullable().optional(),
  salesReadyJump: z.boolean().optional(),
  /** Omitted or null: the stage has no time limits (an edit entry is the whole stage). */
  timeLimits: stageTimeLimitsInput.nullable().optional(),
});

function uniqueFields(stage: { fields?: Array<{ key: string }> | undefined }, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  (stage.fields ?? []).forEach((f, i) => {
    if (seen.has(f.key)) ctx.addIssue({ code: "custom", path: ["fields", i, "key"], message: "repeats a field key" });
    seen.add(f.key);
  });
}

export const stageInput = stageBase.superRefine(uniqueFields);
export type StageInput = z.infer<typeof stageInput>;

/** In an edit, an entry with an id keeps that stage; one without is a new stage. */
export const stageEditInput = stageBase.extend({ id: id.optional() }).superRefine(uniqueFields);
export type StageEditInput = z.infer<typeof stageEditInput>;

/** Keys (and, in an edit, ids) must be unique across the list. */
function uniqueStages(stages: ReadonlyArray<{ key: string; id?: string | undefined }>, ctx: z.RefinementCtx): void {
  const keys = new Set<string>();
  const ids = new Set<string>();
  stages.forEach((s, i) => {
    if (keys.has(s.key)) ctx.addIssue({ code: "custom", path: ["stages", i, "key"], message: "repeats a stage key" });
    keys.add(s.key);
    if (s.id !== undefined) {
      if (ids.has(s.id)) ctx.addIssue({ code: "custom", path: ["stages", i, "id"], message: "repeats a stage id" });
      ids.add(s.id);
    }
  });
}

const processName = z.string().trim().min(1).max(200);
const maxStages = 30;

export const processCreateInput = z
  .strictObject({
    name: processName,
    conversionRequirements: requirementList.optional(),
    stages: z.array(stageInput).min(1, "a process needs at least one stage").max(maxStages),
  })
  .superRefine((p, ctx) => uniqueStages(p.stages, ctx));
export type ProcessCreateInput = z.infer<typeof processCreateInput>;

export const processUpdateInput = z
  .strictObject({
    expectedVersion: z.number().int().min(1),
    name: processName.optional(),
    conversionRequirements: requirementList.optional(),
    /** The full desired list, in order: absent stages are removed. */
    stages: z.array(stageEditInput).min(1, "a process needs at least one stage").max(maxStages).optional(),
    /** Where the leads of each removed stage go: removed stage key → stage key of the new list. */
    moveLeadsTo: z.record(stageKey, stageKey).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.stages) uniqueStages(p.stages, ctx);
  });
export type ProcessUpdateInput = z.infer<typeof processUpdateInput>;

/** A process as the API answers it. */
export interface ProcessView {
  id: string;
  name: string;
  isDefault: boolean;
  conversionRequirements: Array<(typeof requirementKeys)[number]>;
  version: number;
  boardId: string;
  stages: BoardStage[];
  updatedAt: string;
}
