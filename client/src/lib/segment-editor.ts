/**
 * The segment editor's conditions as the user types them, turned into the query the
 * API validates. Values stay text while editing; each field's type decides the JSON.
 */
import {
  opsByType,
  segmentFields,
  type SegmentCondition,
  type SegmentFieldSpec,
  type SegmentOp,
  type SegmentQueryInput,
  type SegmentSource,
} from "../../../shared/schemas/segments.ts";

export interface ConditionDraft {
  field: string;
  op: SegmentOp;
  /** What the value input holds; "in" takes a comma-separated list. */
  raw: string;
}

export function fieldsOf(from: SegmentSource): Array<[string, SegmentFieldSpec]> {
  return Object.entries(segmentFields[from] as Record<string, SegmentFieldSpec>);
}

export function specOf(from: SegmentSource, field: string): SegmentFieldSpec | undefined {
  const fields = segmentFields[from] as Record<string, SegmentFieldSpec>;
  return Object.hasOwn(fields, field) ? fields[field] : undefined;
}

export function opsFor(spec: SegmentFieldSpec | undefined): readonly SegmentOp[] {
  return spec ? opsByType[spec.type] : [];
}

export const opLabels: Record<SegmentOp, string> = {
  eq: "is",
  neq: "is not",
  in: "is one of",
  contains: "contains",
  exists: "has a value",
  gt: "greater than",
  gte: "at least",
  lt: "less than",
  lte: "at most",
};

/** A fresh condition on the first field of a starting point. */
export function newCondition(from: SegmentSource): ConditionDraft {
  const [first] = fieldsOf(from);
  const field = first?.[0] ?? "";
  return { field, op: opsFor(first?.[1])[0] ?? "eq", raw: "" };
}

/** Keeps the op when the new field allows it, else takes the field's first op. */
export function withField(draft: ConditionDraft, from: SegmentSource, field: string): ConditionDraft {
  const ops = opsFor(specOf(from, field));
  return { field, op: ops.includes(draft.op) ? draft.op : (ops[0] ?? "eq"), raw: "" };
}

function scalar(spec: SegmentFieldSpec | undefined, text: string): string | number | boolean {
  const t = text.trim();
  if (spec?.type === "number" && t !== "" && Number.isFinite(Number(t))) return Number(t);
  if (spec?.type === "boolean" && (t === "true" || t === "false")) return t === "true";
  return t;
}

/** The condition as the API takes it; the server reports what does not fit. */
export function toCondition(from: SegmentSource, draft: ConditionDraft): SegmentCondition {
  const spec = specOf(from, draft.field);
  if (draft.op === "exists") {
    const t = draft.raw.trim();
    return t === "false" ? { field: draft.field, op: "exists", value: false } : { field: draft.field, op: "exists" };
  }
  if (draft.op === "in") {
    const values = draft.raw.split(",").map((v) => v.trim()).filter(Boolean).map((v) => scalar(spec, v));
    return { field: draft.field, op: "in", value: values };
  }
  return { field: draft.field, op: draft.op, value: scalar(spec, draft.raw) };
}

export function toQuery(from: SegmentSource, match: "all" | "any", conditions: readonly ConditionDraft[]): SegmentQueryInput {
  return { from, match, where: conditions.map((c) => toCondition(from, c)) };
}

/** Back from a saved query to drafts, for editing. */
export function draftsOf(query: SegmentQueryInput): ConditionDraft[] {
  return query.where.map((c) => ({
    field: c.field,
    op: c.op,
    raw: Array.isArray(c.value) ? c.value.join(", ") : c.value === undefined ? "" : String(c.value),
  }));
}

/**
 * The problems of condition `index` from INVALID_INPUT details: `where.0.value`, also
 * when nested under `query.`. Keyed by the part of the condition (field, op, value).
 */
export function conditionProblems(problems: ReadonlyArray<{ field: string; message: string }>, index: number): string[] {
  const pattern = new RegExp(`^(?:query\\.)?where\\.${index}(?:\\.(.+))?$`);
  const found: string[] = [];
  for (const p of problems) {
    const m = pattern.exec(p.field);
    if (m) found.push(m[1] ? `${m[1]}: ${p.message}` : p.message);
  }
  return found;
}

/** Problems not tied to one condition (the name, `from`, the list as a whole). */
export function otherProblems(problems: ReadonlyArray<{ field: string; message: string }>): string[] {
  return problems.filter((p) => !/^(?:query\.)?where\.\d+/.test(p.field)).map((p) => `${p.field}: ${p.message}`);
}

export function placeholderFor(spec: SegmentFieldSpec | undefined, op: SegmentOp): string {
  if (op === "exists") return "true (or false)";
  if (op === "in") return "a, b, c";
  if (!spec) return "";
  if (spec.values) return spec.values.join(" / ");
  return { text: "text", number: "123", boolean: "true / false", date: "2025-01-31", enum: "key", id: "uuid" }[spec.type];
}
