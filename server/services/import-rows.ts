/**
 * One CSV row of an import: from fields to validated values, and the row errors the
 * report shows. Pure apart from the error classification's look at driver errors.
 */
import { z } from "zod";
import type { ImportField, ImportKind } from "../../shared/domain/csv-columns.ts";
import { DomainError } from "../../shared/errors.ts";
import { importRow, type ImportRowValues } from "../../shared/schemas/imports.ts";
import { decodeRecords, type DecodedRecord, type FramedRecord } from "./import-csv.ts";

export type RowOutcome =
  | { row: number; values: ImportRowValues }
  | { row: number; error: string }
  /** Every cell empty (a spreadsheet's trailing ",,,"): counted as read, nothing to import. */
  | { row: number; blank: true };

const schemas: Record<ImportKind, ReturnType<typeof importRow>> = {
  contacts: importRow("contacts"),
  leads: importRow("leads"),
};

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => (issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message)).join("; ");
}

/** Maps a decoded row through the columns and checks it with the same rules as a form submission. */
export function rowValues(record: DecodedRecord, columns: ReadonlyArray<ImportField | null>, kind: ImportKind): RowOutcome {
  if ("error" in record) return record;
  const { row, fields } = record;
  // Extra cells are only an error when they hold something: exports often end rows with a stray delimiter.
  if (fields.length > columns.length && fields.slice(columns.length).some((f) => f.trim() !== "")) {
    return { row, error: `the row has ${fields.length} values but the header has ${columns.length} columns` };
  }
  const values: ImportRowValues = {};
  let blank = true;
  fields.forEach((raw, index) => {
    const value = raw.trim();
    if (value === "") return;
    blank = false;
    const field = columns[index];
    if (field) values[field] = value;
  });
  if (blank) return { row, blank: true };
  const parsed = schemas[kind].safeParse(values);
  if (!parsed.success) return { row, error: describeIssues(parsed.error) };
  const clean: ImportRowValues = {};
  for (const [field, value] of Object.entries(parsed.data) as Array<[ImportField, string | null | undefined]>) {
    if (value) clean[field] = value;
  }
  return { row, values: clean };
}

/** A batch's rows decoded and checked: rows the framer refused first, then each row's values or error. */
export function decodeBatch(
  batch: readonly FramedRecord[],
  delimiter: string,
  columns: ReadonlyArray<ImportField | null>,
  kind: ImportKind,
): RowOutcome[] {
  const framed = batch.filter((r): r is { row: number; text: string } => "text" in r);
  return [
    ...batch.filter((r): r is { row: number; error: string } => "error" in r),
    ...decodeRecords(framed, delimiter).map((record) => rowValues(record, columns, kind)),
  ];
}

const codeOf = (err: unknown): string | undefined => {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
};

/**
 * Worth running the batch again: a deadlock or serialisation failure, or a match key
 * that vanished under a concurrent transaction (see `claimKey`).
 */
export function isTransient(err: unknown): boolean {
  const code = codeOf(err);
  if (code === "40001" || code === "40P01") return true;
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof Error && e.message.includes("will be retried")) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The reason a row is rejected, or undefined when the error is not the row's fault (the
 * connection, the transaction, a retryable conflict): then the whole batch must go.
 */
export function rowErrorMessage(err: unknown): string | undefined {
  if (err instanceof DomainError) return err.message;
  if (err instanceof z.ZodError) return describeIssues(err);
  if (isTransient(err)) return undefined;
  const code = codeOf(err);
  // Data exceptions (22) and constraint violations (23) concern this row's values alone.
  if (code?.startsWith("22")) return "could not be saved: a value does not fit its field";
  if (code?.startsWith("23")) return "could not be saved: it conflicts with existing data";
  return undefined;
}
