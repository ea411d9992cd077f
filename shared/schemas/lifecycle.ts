import { z } from "zod";
import { leadFlags, type StageField } from "../domain/stages.ts";
import { id } from "./common.ts";

/**
 * Commands of a lead's life after it is created: gate checkboxes, owner, stage fields,
 * conversion, disqualification, and a switch to another process. The lead id is in the path.
 */

const expectedVersion = z.number().int().min(1);
const note = z.string().trim().max(500);

export const setFlagBody = z.strictObject({
  flag: z.enum(leadFlags),
  value: z.boolean(),
  expectedVersion,
  note: note.optional(),
});
export type SetFlagInput = z.infer<typeof setFlagBody>;

export const assignBody = z.strictObject({
  /** null unassigns. */
  ownerId: id.nullable(),
  expectedVersion,
});
export type AssignInput = z.infer<typeof assignBody>;

/** Field values are checked against the stage's typed fields by `stageValueProblems`. */
export const stageFieldsBody = z.strictObject({
  /** A stage key of the lead's process; the lead's current stage when absent. */
  stage: z.string().trim().min(1).max(100).optional(),
  values: z
    .record(z.string().min(1).max(100), z.unknown())
    .refine((v) => Object.keys(v).length > 0, "must name at least one field")
    .refine((v) => Object.keys(v).length <= 100, "too many fields at once"),
  expectedVersion,
});
export type StageFieldsInput = z.infer<typeof stageFieldsBody>;

export const convertBody = z.strictObject({
  expectedVersion,
  /** The opportunity's name; the topic plus the company or contact name when absent. */
  name: z.string().trim().min(1).max(300).optional(),
  estimatedValue: z.number().min(0).max(1e15).nullable().optional(),
});
export type ConvertInput = z.infer<typeof convertBody>;

export const disqualifyBody = z.strictObject({
  reason: z.string().trim().min(1).max(500),
  expectedVersion,
});
export type DisqualifyInput = z.infer<typeof disqualifyBody>;

export const reopenBody = z.strictObject({
  expectedVersion,
  note: note.optional(),
});
export type ReopenInput = z.infer<typeof reopenBody>;

export const switchProcessBody = z.strictObject({
  processId: id,
  /** A stage key of the target process; its first stage when absent. */
  toStage: z.string().trim().min(1).max(100).optional(),
  expectedVersion,
});
export type SwitchProcessInput = z.infer<typeof switchProcessBody>;

/** What converting a lead creates. */
export interface Opportunity {
  id: string;
  leadId: string;
  name: string;
  contactId: string | null;
  accountId: string | null;
  ownerId: string | null;
  estimatedValue: number | null;
  createdAt: string;
}

export const maxTextFieldLength = 5000;

/**
 * Why a value does not fit a stage field, or null when it does. `null` always fits: it
 * clears the field. Whether a "user" value names an existing user is for the server to say.
 */
export function stageValueProblem(field: StageField, value: unknown): string | null {
  if (value === null) return null;
  switch (field.type) {
    case "text":
      if (typeof value !== "string") return "must be text";
      return value.length > maxTextFieldLength ? `must be at most ${maxTextFieldLength} characters` : null;
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? null : "must be a number";
    case "choice":
      return typeof value === "string" && (field.options ?? []).includes(value)
        ? null
        : `must be one of: ${(field.options ?? []).join(", ")}`;
    case "user":
      return id.safeParse(value).success ? null : "must be a user id";
    case "checkbox":
      return typeof value === "boolean" ? null : "must be true or false";
  }
}

/** One detail per bad field, in the contract's `details` shape (field paths under `values`). */
export function stageValueProblems(
  fields: readonly StageField[],
  values: Record<string, unknown>,
): Array<{ field: string; message: string }> {
  const problems: Array<{ field: string; message: string }> = [];
  for (const [key, value] of Object.entries(values)) {
    const field = fields.find((f) => f.key === key);
    const message = field ? stageValueProblem(field, value) : "is not a field of this stage";
    if (message) problems.push({ field: `values.${key}`, message });
  }
  return problems;
}
