import { z } from "zod";
import { leadSources } from "./records.ts";

/**
 * Segment queries: which records a segment starts from, and the conditions on their own
 * fields. Shared by the server (validation, resolution) and the client (the query editor).
 */

export const segmentSources = ["contacts", "accounts", "leads", "opportunities"] as const;
export type SegmentSource = (typeof segmentSources)[number];

export const segmentOps = ["eq", "neq", "in", "contains", "exists", "gt", "gte", "lt", "lte"] as const;
export type SegmentOp = (typeof segmentOps)[number];

export type SegmentFieldType = "text" | "number" | "boolean" | "date" | "enum" | "id";

export interface SegmentFieldSpec {
  type: SegmentFieldType;
  /** The allowed values of a closed enum; absent for open sets checked elsewhere (stage keys). */
  values?: readonly string[];
}

/** What each field type can be compared with; anything else is a mistake worth reporting. */
export const opsByType: Record<SegmentFieldType, readonly SegmentOp[]> = {
  text: ["eq", "neq", "in", "contains", "exists"],
  number: ["eq", "neq", "in", "gt", "gte", "lt", "lte", "exists"],
  boolean: ["eq", "neq", "exists"],
  // Timestamps are compared by range: equality to the microsecond is never what people mean.
  date: ["gt", "gte", "lt", "lte", "exists"],
  enum: ["eq", "neq", "in", "exists"],
  id: ["eq", "neq", "in", "exists"],
};

const leadStatuses = ["open", "converted", "disqualified"] as const;

/** The filterable fields of each starting point: an allow-list, so queries never reach other columns. */
export const segmentFields = {
  contacts: {
    email: { type: "text" },
    firstName: { type: "text" },
    lastName: { type: "text" },
    jobTitle: { type: "text" },
    phone: { type: "text" },
    country: { type: "text" },
    accountId: { type: "id" },
    source: { type: "enum", values: leadSources },
    createdAt: { type: "date" },
  },
  accounts: {
    name: { type: "text" },
    industry: { type: "text" },
    employeeCount: { type: "number" },
    annualRevenue: { type: "number" },
    country: { type: "text" },
    websiteDomain: { type: "text" },
    createdAt: { type: "date" },
  },
  leads: {
    topic: { type: "text" },
    campaign: { type: "text" },
    source: { type: "enum", values: leadSources },
    // A stage key; processes define their own, so the server checks them against the stages table.
    stage: { type: "enum" },
    status: { type: "enum", values: leadStatuses },
    salesReady: { type: "boolean" },
    readyForTeleprospecting: { type: "boolean" },
    teleprospectingAccepted: { type: "boolean" },
    salesAccepted: { type: "boolean" },
    ownerId: { type: "id" },
    isTest: { type: "boolean" },
    formId: { type: "id" },
    eventId: { type: "id" },
    createdAt: { type: "date" },
  },
  opportunities: {
    name: { type: "text" },
    ownerId: { type: "id" },
    estimatedValue: { type: "number" },
    createdAt: { type: "date" },
  },
} as const satisfies Record<SegmentSource, Record<string, SegmentFieldSpec>>;

export type SegmentField<S extends SegmentSource> = keyof (typeof segmentFields)[S];

export const maxSegmentConditions = 20;
export const maxInValues = 500;
const maxTextValue = 500;

type Scalar = string | number | boolean;
const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const segmentCondition = z.strictObject({
  field: z.string().min(1).max(100),
  op: z.enum(segmentOps, { error: `must be one of: ${segmentOps.join(", ")}` }),
  value: z
    .union([scalar, z.array(scalar)], { error: "must be a string, number, boolean or a list of them" })
    .optional(),
});
export type SegmentCondition = z.infer<typeof segmentCondition>;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const datePattern = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Why `value` does not fit a field of this spec, or null when it does. */
function valueProblem(spec: SegmentFieldSpec, value: Scalar): string | null {
  switch (spec.type) {
    case "text":
      if (typeof value !== "string") return "must be a string";
      return value.length > maxTextValue ? `must be at most ${maxTextValue} characters` : null;
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? null : "must be a number";
    case "boolean":
      return typeof value === "boolean" ? null : "must be true or false";
    case "date":
      return typeof value === "string" && datePattern.test(value) && !Number.isNaN(Date.parse(value))
        ? null
        : "must be a date (YYYY-MM-DD) or an ISO date-time with a time zone";
    case "id":
      return typeof value === "string" && uuidPattern.test(value) ? null : "must be an id (uuid)";
    case "enum":
      if (spec.values) {
        return typeof value === "string" && spec.values.includes(value)
          ? null
          : `must be one of: ${spec.values.join(", ")}`;
      }
      return typeof value === "string" && value.trim() !== "" && value.length <= 100 ? null : "must be a key";
  }
}

/** Checks one condition against the starting point's allow-list; each problem names its own path. */
function checkCondition(source: SegmentSource, condition: SegmentCondition, index: number, ctx: z.RefinementCtx) {
  const at = (...rest: Array<string | number>) => ["where", index, ...rest];
  const fields: Record<string, SegmentFieldSpec> = segmentFields[source];
  const spec = Object.hasOwn(fields, condition.field) ? fields[condition.field] : undefined;
  if (!spec) {
    const known = Object.keys(fields).join(", ");
    ctx.addIssue({ code: "custom", path: at("field"), message: `${source} have no field "${condition.field}"; use one of: ${known}` });
    return;
  }
  const { op, value } = condition;
  const allowed = opsByType[spec.type];
  if (!allowed.includes(op)) {
    ctx.addIssue({
      code: "custom",
      path: at("op"),
      message: `"${op}" does not apply to ${condition.field} (${spec.type}); use one of: ${allowed.join(", ")}`,
    });
    return;
  }
  if (op === "exists") {
    if (value !== undefined && typeof value !== "boolean") {
      ctx.addIssue({ code: "custom", path: at("value"), message: `"exists" takes true, false or no value` });
    }
    return;
  }
  if (op === "in") {
    if (!Array.isArray(value) || value.length === 0) {
      ctx.addIssue({ code: "custom", path: at("value"), message: `"in" needs a non-empty list of values` });
      return;
    }
    if (value.length > maxInValues) {
      ctx.addIssue({ code: "custom", path: at("value"), message: `"in" takes at most ${maxInValues} values` });
      return;
    }
    value.forEach((item, i) => {
      const problem = valueProblem(spec, item);
      if (problem) ctx.addIssue({ code: "custom", path: at("value", i), message: problem });
    });
    return;
  }
  if (value === undefined || Array.isArray(value)) {
    const message = value === undefined ? `"${op}" needs a value` : `"${op}" takes one value; use "in" for a list`;
    ctx.addIssue({ code: "custom", path: at("value"), message });
    return;
  }
  const problem = valueProblem(spec, value);
  if (problem) ctx.addIssue({ code: "custom", path: at("value"), message: problem });
  else if (op === "contains" && value === "") {
    ctx.addIssue({ code: "custom", path: at("value"), message: `"contains" needs some text` });
  }
}

export const segmentQuery = z
  .strictObject({
    from: z.enum(segmentSources, { error: `must be one of: ${segmentSources.join(", ")}` }),
    where: z.array(segmentCondition).max(maxSegmentConditions, `at most ${maxSegmentConditions} conditions`),
    match: z.enum(["all", "any"], { error: "must be all or any" }).default("all"),
  })
  .superRefine((query, ctx) => {
    query.where.forEach((condition, index) => checkCondition(query.from, condition, index, ctx));
  });
export type SegmentQuery = z.infer<typeof segmentQuery>;
/** What clients send: `match` may be left out. */
export type SegmentQueryInput = z.input<typeof segmentQuery>;

const segmentName = z.string().trim().min(1, "must not be empty").max(200);

export const segmentInput = z.strictObject({ name: segmentName, query: segmentQuery });
export type SegmentInput = z.infer<typeof segmentInput>;

export const segmentPatch = z
  .strictObject({ name: segmentName.optional(), query: segmentQuery.optional() })
  .refine((patch) => patch.name !== undefined || patch.query !== undefined, "give a name, a query, or both");
export type SegmentPatch = z.infer<typeof segmentPatch>;

export const segmentPreviewInput = z.strictObject({ query: segmentQuery });
export type SegmentPreviewInput = z.infer<typeof segmentPreviewInput>;

export const maxSegmentPage = 500;

/** Paging from a query string; not strict, so cache-busting parameters do no harm. */
export const segmentPage = z.object({
  limit: z.coerce.number({ error: "must be a number" }).int().min(1).max(maxSegmentPage).default(50),
  offset: z.coerce.number({ error: "must be a number" }).int().min(0).max(10_000_000).default(0),
});
export type SegmentPage = z.infer<typeof segmentPage>;
