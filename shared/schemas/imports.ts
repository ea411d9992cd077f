import { z } from "zod";
import { identityFieldsFor, importKinds, type ImportField, type ImportKind } from "../domain/csv-columns.ts";
import { id } from "./common.ts";
import { submissionInput } from "./intake.ts";

/** `?map=` is JSON text in the query string: `{"CSV header": "field" | "ignore"}`. */
const columnMap = z
  .string()
  .max(10_000)
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: 'must be JSON like {"CSV header": "field"}' });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(z.string().min(1, "names no column").max(200), z.string({ message: "must name a field or \"ignore\"" }), {
      message: 'must be a JSON object like {"CSV header": "field"}',
    }),
  );

/** The query string of `POST /api/imports`; the body is the CSV file itself. */
export const importQuery = z.strictObject({
  kind: z.enum(importKinds, { message: "must be contacts or leads" }),
  map: columnMap.optional(),
  fileName: z.string().trim().min(1).max(255).optional(),
  contactStrategyId: id.optional(),
  leadStrategyId: id.optional(),
  /** Leads only: the campaign of rows that name none. */
  campaign: z.string().trim().min(1).max(200).optional(),
});
export type ImportQuery = z.infer<typeof importQuery>;

/**
 * One CSV row's values. The same rules as a landing-page submission, except that the
 * email is optional: a row may name a person, or (for leads) only a company.
 */
const rowValues = submissionInput.extend({
  email: z
    .string()
    .trim()
    .max(320)
    .pipe(z.email({ message: "must be an email address" }))
    .optional(),
});
export type ImportRowValues = Partial<Record<ImportField, string>>;

const identityMessage: Record<ImportKind, string> = {
  contacts: "a contact needs an email or a name",
  leads: "a lead needs an email, a name or a company",
};

export function importRow(kind: ImportKind) {
  const identity = identityFieldsFor(kind);
  return rowValues.superRefine((values, ctx) => {
    if (!identity.some((field) => values[field])) ctx.addIssue({ code: "custom", path: [], message: identityMessage[kind] });
  });
}

export const importStatuses = ["running", "done", "failed"] as const;
export type ImportStatus = (typeof importStatuses)[number];

/** What `GET /api/imports/:id` answers, and what `onProgress` reports. */
export interface ImportView {
  id: string;
  kind: ImportKind;
  status: ImportStatus;
  fileName: string | null;
  mapping: Record<string, string>;
  /** Rows read so far; final once the status is no longer "running". */
  total: number;
  /** Rows handled in committed batches (imported, matched or rejected). */
  processed: number;
  created: number;
  /** Rows that matched an existing record and were merged into it. */
  updated: number;
  /** Rejected rows, the first 1,000 of them: row 1 is the first row after the header. */
  errors: Array<{ row: number; error: string }>;
  /** Rejected rows beyond the listed ones. */
  errorsNotListed: number;
  failure: string | null;
  createdAt: string;
  finishedAt: string | null;
}
