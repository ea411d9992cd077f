import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { issuesToDetails } from "../../shared/schemas/common.ts";
import {
  interactionBatch,
  interactionInput,
  maxInteractionBatch,
  modelProblems,
  scoringLimits,
  scoringModelInput,
  scoringModelPatch,
  scoringPreviewInput,
} from "../../shared/schemas/scoring.ts";

type Details = Array<{ field: string; message: string }>;

function problemsOf(schema: z.ZodType, value: unknown): Details {
  const result = schema.safeParse(value);
  return result.success ? [] : issuesToDetails(result.error);
}

const formSubmitted = { kind: "behavior", interaction: "form_submitted", points: 10, frequency: "each" };

/** A model that passes: every later case breaks exactly one thing of it. */
const validModel = () => ({
  name: "Contact fit and engagement",
  target: "contact",
  threshold: 100,
  status: "live",
  grades: [
    { grade: "D", min: 0, max: 24 },
    { grade: "C", min: 25, max: 49 },
    { grade: "B", min: 50, max: 74 },
    { grade: "A", min: 75, max: 100 },
  ],
  conditions: [
    formSubmitted,
    { kind: "behavior", interaction: "email_clicked", points: 5, frequency: "once", minCount: 2, withinDays: 30, sameContext: true },
    { kind: "behavior", interaction: "email_opened", points: -10, frequency: "none", withinDays: 90 },
    { kind: "contact", field: "jobTitle", op: "contains", value: "director", points: 15 },
    { kind: "contact", field: "country", op: "in", value: ["DE", "AT", "CH"], points: 5 },
    { kind: "contact", field: "phone", op: "exists", points: 3 },
    { kind: "account", field: "employeeCount", op: "gte", value: 500, points: 20 },
    { kind: "account", field: "annualRevenue", op: "in", value: [1_000_000, 2_000_000], points: 1 },
    { kind: "account", field: "industry", op: "neq", value: "Retail", points: 2 },
  ],
  keepSalesReady: false,
});

const withCondition = (condition: Record<string, unknown>, overrides: Record<string, unknown> = {}) => ({
  ...validModel(),
  conditions: [condition],
  ...overrides,
});

describe("scoringModelInput", () => {
  it("accepts a valid model as it is", () => {
    const result = scoringModelInput.safeParse(validModel());
    expect(result.success).toBe(true);
    expect(result.data).toEqual(validModel());
  });

  it("defaults status to draft, grades to none and keeps sales-ready leads", () => {
    const result = scoringModelInput.parse({ name: "Minimal", target: "account", threshold: 1, conditions: [formSubmitted] });
    expect(result).toMatchObject({ status: "draft", grades: [], keepSalesReady: true });
  });

  it("accepts the outermost allowed values", () => {
    const result = scoringModelInput.safeParse({
      ...validModel(),
      name: "x".repeat(120),
      threshold: scoringLimits.threshold,
      grades: Array.from({ length: scoringLimits.grades }, (_, i) => ({ grade: `G${i}`, min: i * 10, max: i * 10 + 9 })),
      conditions: [
        { ...formSubmitted, points: scoringLimits.points, withinDays: scoringLimits.withinDays },
        { ...formSubmitted, points: -scoringLimits.points, withinDays: 1 },
        ...Array.from({ length: scoringLimits.conditions - 2 }, () => formSubmitted),
      ],
    });
    expect(result.success).toBe(true);
  });

  const cases: Array<[string, Record<string, unknown>, string, string | RegExp]> = [
    // grades
    [
      "grades that overlap",
      { grades: [{ grade: "B", min: 0, max: 50 }, { grade: "A", min: 50, max: 100 }] },
      "grades.1",
      "A (50-100) overlaps B (0-50)",
    ],
    [
      "grades that leave a gap",
      { grades: [{ grade: "B", min: 0, max: 40 }, { grade: "A", min: 50, max: 100 }] },
      "grades.1",
      "scores 41-49 have no grade between B and A",
    ],
    [
      "a grade named twice (in another case)",
      { grades: [{ grade: "A", min: 0, max: 49 }, { grade: "a", min: 50, max: 100 }] },
      "grades.1.grade",
      'grade "a" appears twice',
    ],
    ["a grade whose min is above its max", { grades: [{ grade: "A", min: 60, max: 10 }] }, "grades.0", "min (60) is above max (10)"],
    ["13 grades", { grades: Array.from({ length: 13 }, (_, i) => ({ grade: `G${i}`, min: i * 10, max: i * 10 + 9 })) }, "grades", "at most 12 grades"],
    ["a blank grade name", { grades: [{ grade: "  ", min: 0, max: 10 }] }, "grades.0.grade", "must not be empty"],
    ["an extra key in a grade", { grades: [{ grade: "A", min: 0, max: 10, colour: "green" }] }, "grades.0", /Unrecognized key/],
    // fields
    ["an unknown contact field", { conditions: [{ kind: "contact", field: "salary", op: "gt", value: 5, points: 1 }] }, "conditions.0.field", /unknown contact field "salary"/],
    ["an unknown account field", { conditions: [{ kind: "account", field: "jobTitle", op: "eq", value: "CTO", points: 1 }] }, "conditions.0.field", /unknown account field "jobTitle"/],
    ["gt on a text field", { conditions: [{ kind: "contact", field: "jobTitle", op: "gt", value: "m", points: 1 }] }, "conditions.0.op", '"gt" does not apply to text field jobTitle'],
    ["contains on a number field", { conditions: [{ kind: "account", field: "employeeCount", op: "contains", value: 5, points: 1 }] }, "conditions.0.op", '"contains" does not apply to number field employeeCount'],
    ["an unknown op", { conditions: [{ kind: "contact", field: "jobTitle", op: "like", value: "x", points: 1 }] }, "conditions.0.op", /must be one of eq, neq/],
    ['"in" without a list', { conditions: [{ kind: "contact", field: "country", op: "in", value: "DE", points: 1 }] }, "conditions.0.value", '"in" takes a list of values'],
    ['"in" with an empty list', { conditions: [{ kind: "contact", field: "country", op: "in", value: [], points: 1 }] }, "conditions.0.value", /.+/],
    ["eq with a list", { conditions: [{ kind: "contact", field: "country", op: "eq", value: ["DE"], points: 1 }] }, "conditions.0.value", "must be a single value"],
    ['"exists" with a value', { conditions: [{ kind: "contact", field: "phone", op: "exists", value: "yes", points: 1 }] }, "conditions.0.value", '"exists" takes no value'],
    ["eq without a value", { conditions: [{ kind: "contact", field: "country", op: "eq", points: 1 }] }, "conditions.0.value", "a value is required"],
    ["a number field with text", { conditions: [{ kind: "account", field: "employeeCount", op: "gte", value: "500", points: 1 }] }, "conditions.0.value", "must be a number"],
    ['a number field with text in an "in" list', { conditions: [{ kind: "account", field: "annualRevenue", op: "in", value: [1, "2"], points: 1 }] }, "conditions.0.value", "must be a number"],
    ["a text field with a number", { conditions: [{ kind: "contact", field: "jobTitle", op: "eq", value: 5, points: 1 }] }, "conditions.0.value", "must be text"],
    ["a blank text value", { conditions: [{ kind: "contact", field: "jobTitle", op: "eq", value: "   ", points: 1 }] }, "conditions.0.value", /.+/],
    ["a contact condition in an account model", { target: "account", conditions: [{ kind: "contact", field: "jobTitle", op: "exists", points: 1 }] }, "conditions.0.kind", /account model/],
    ["an unknown condition kind", { conditions: [{ kind: "lead", field: "topic", op: "exists", points: 1 }] }, "conditions.0.kind", /kind must be/],
    // behaviour
    ["minCount with each", { conditions: [{ ...formSubmitted, frequency: "each", minCount: 2 }] }, "conditions.0.minCount", 'minCount only applies to frequency "once"'],
    ["minCount with none", { conditions: [{ ...formSubmitted, frequency: "none", minCount: 2 }] }, "conditions.0.minCount", 'minCount only applies to frequency "once"'],
    ["minCount 0", { conditions: [{ ...formSubmitted, frequency: "once", minCount: 0 }] }, "conditions.0.minCount", "must be at least 1"],
    ["an unknown interaction type", { conditions: [{ ...formSubmitted, interaction: "tweeted" }] }, "conditions.0.interaction", /must be one of email_opened/],
    ["an unknown frequency", { conditions: [{ ...formSubmitted, frequency: "daily" }] }, "conditions.0.frequency", "must be each, once or none"],
    ["withinDays 0", { conditions: [{ ...formSubmitted, withinDays: 0 }] }, "conditions.0.withinDays", "must be at least 1 day"],
    ["withinDays 3651", { conditions: [{ ...formSubmitted, withinDays: 3651 }] }, "conditions.0.withinDays", "must be at most 3650 days"],
    ["withinDays 1.5", { conditions: [{ ...formSubmitted, withinDays: 1.5 }] }, "conditions.0.withinDays", "must be a whole number of days"],
    ["sameContext that is not a boolean", { conditions: [{ ...formSubmitted, sameContext: "yes" }] }, "conditions.0.sameContext", /.+/],
    ["an extra key in a condition", { conditions: [{ ...formSubmitted, weight: 2 }] }, "conditions.0", /Unrecognized key/],
    // absurd values
    ["points 1001", { conditions: [{ ...formSubmitted, points: 1001 }] }, "conditions.0.points", "must be at most 1000"],
    ["points -1001", { conditions: [{ ...formSubmitted, points: -1001 }] }, "conditions.0.points", "must be at least -1000"],
    ["points 2.5", { conditions: [{ ...formSubmitted, points: 2.5 }] }, "conditions.0.points", "must be a whole number"],
    ["points as text", { conditions: [{ ...formSubmitted, points: "10" }] }, "conditions.0.points", "must be a number"],
    ["threshold 0", { threshold: 0 }, "threshold", "must be at least 1"],
    ["threshold 100001", { threshold: 100_001 }, "threshold", "must be at most 100000"],
    ["no conditions", { conditions: [] }, "conditions", "a model needs at least one condition"],
    ["51 conditions", { conditions: Array.from({ length: 51 }, () => formSubmitted) }, "conditions", "at most 50 conditions"],
    ["a name too long", { name: "x".repeat(121) }, "name", "must be at most 120 characters"],
    ["a blank name", { name: "   " }, "name", "must not be empty"],
    ["an unknown target", { target: "lead" }, "target", 'must be "contact" or "account"'],
    ["an unknown status", { status: "archived" }, "status", 'must be "draft" or "live"'],
    ["an extra key", { owner: "me" }, "(body)", 'Unrecognized key: "owner"'],
  ];

  it.each(cases)("rejects %s", (_name, overrides, field, message) => {
    const details = problemsOf(scoringModelInput, { ...validModel(), ...overrides });
    expect(details.length).toBeGreaterThan(0);
    const at = details.filter((d) => d.field === field);
    expect(at, JSON.stringify(details)).toHaveLength(1);
    if (typeof message === "string") expect(at[0]!.message).toBe(message);
    else expect(at[0]!.message).toMatch(message);
  });

  it("gives one message per problem, each at its own path", () => {
    const details = problemsOf(scoringModelInput, {
      ...validModel(),
      target: "account",
      grades: [
        { grade: "Low", min: 0, max: 10 },
        { grade: "High", min: 20, max: 30 },
      ],
      conditions: [
        { ...formSubmitted, frequency: "each", minCount: 3 },
        { kind: "contact", field: "jobTitle", op: "exists", points: 1 },
        { kind: "account", field: "revenue", op: "gt", value: 1, points: 1 },
        { kind: "account", field: "industry", op: "lt", value: "x", points: 1 },
      ],
    });
    expect(details.map((d) => d.field).sort()).toEqual(["conditions.0.minCount", "conditions.1.kind", "conditions.2.field", "conditions.3.op", "grades.1"]);
  });

  it("an account model may test account fields", () => {
    const result = scoringModelInput.safeParse(
      withCondition({ kind: "account", field: "industry", op: "eq", value: "Software", points: 5 }, { target: "account" }),
    );
    expect(result.success).toBe(true);
  });
});

describe("modelProblems (shared by the service's PATCH and preview checks)", () => {
  it("finds nothing wrong in a valid model", () => {
    const model = scoringModelInput.parse(validModel());
    expect(modelProblems(model)).toEqual([]);
  });

  it("reports unordered bands by where they are in the list", () => {
    const problems = modelProblems({
      target: "contact",
      grades: [
        { grade: "A", min: 60, max: 100 },
        { grade: "B", min: 0, max: 49 },
      ],
      conditions: [],
    });
    expect(problems).toEqual([{ field: "grades.0", message: "scores 50-59 have no grade between B and A" }]);
  });
});

describe("scoringModelPatch and scoringPreviewInput", () => {
  it.each([
    ["a rename", { name: "Renamed", expectedVersion: 3 }],
    ["a new threshold", { threshold: 40 }],
    ["publishing", { status: "live" }],
    ["new grades", { grades: [{ grade: "A", min: 0, max: 10 }] }],
  ])("a patch with %s passes", (_name, patch) => {
    expect(scoringModelPatch.safeParse(patch).success).toBe(true);
  });

  it.each([
    ["nothing", {}, "(body)", "nothing to change"],
    ["only an expected version", { expectedVersion: 2 }, "(body)", "nothing to change"],
    ["an expected version of 0", { expectedVersion: 0, name: "x" }, "expectedVersion", /.+/],
    ["an extra key", { name: "x", id: "y" }, "(body)", /Unrecognized key/],
    ["threshold 0", { threshold: 0 }, "threshold", "must be at least 1"],
    ["points 1001", { conditions: [{ ...formSubmitted, points: 1001 }] }, "conditions.0.points", "must be at most 1000"],
  ])("a patch with %s is rejected", (_name, patch, field, message) => {
    const details = problemsOf(scoringModelPatch, patch);
    const at = details.find((d) => d.field === field);
    expect(at, JSON.stringify(details)).toBeDefined();
    if (typeof message === "string") expect(at!.message).toBe(message);
    else expect(at!.message).toMatch(message);
  });

  it("a preview may be empty (the stored model as it is) or an unsaved edit", () => {
    expect(scoringPreviewInput.parse(undefined)).toEqual({});
    expect(scoringPreviewInput.parse({ threshold: 20, conditions: [formSubmitted] })).toEqual({ threshold: 20, conditions: [formSubmitted] });
  });

  it.each([
    ["a name (not part of what scores)", { name: "x" }, "(body)"],
    ["withinDays 0", { conditions: [{ ...formSubmitted, withinDays: 0 }] }, "conditions.0.withinDays"],
    ["threshold 100001", { threshold: 100_001 }, "threshold"],
  ])("a preview with %s is rejected", (_name, input, field) => {
    expect(problemsOf(scoringPreviewInput, input).map((d) => d.field)).toContain(field);
  });
});

describe("interactionInput", () => {
  const contactId = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b";

  it.each([
    ["an email", { type: "email_opened", email: "pat@example.com" }],
    ["a contact id", { type: "form_submitted", contactId }],
    ["a time with Z", { type: "website_visited", email: "pat@example.com", occurredAt: "2026-06-01T09:00:00Z" }],
    ["a time with an offset and milliseconds", { type: "website_visited", email: "pat@example.com", occurredAt: "2026-06-01T09:00:00.123+02:00" }],
    ["every optional field", { type: "event_attended", contactId, occurredAt: "2026-06-01T09:00:00Z", formId: contactId, eventId: contactId, campaign: "spring", url: "https://example.com/x" }],
  ])("accepts %s", (_name, input) => {
    expect(interactionInput.safeParse(input).success).toBe(true);
  });

  it.each([
    ["both a contact id and an email", { type: "email_opened", contactId, email: "pat@example.com" }, "(body)", "name exactly one of contactId or email"],
    ["neither a contact id nor an email", { type: "email_opened" }, "(body)", "name exactly one of contactId or email"],
    ["a date that is not a date", { type: "email_opened", email: "pat@example.com", occurredAt: "yesterday" }, "occurredAt", "must be an ISO 8601 date-time"],
    ["a date without a time", { type: "email_opened", email: "pat@example.com", occurredAt: "2026-06-01" }, "occurredAt", "must be an ISO 8601 date-time"],
    ["a time without an offset", { type: "email_opened", email: "pat@example.com", occurredAt: "2026-06-01T09:00:00" }, "occurredAt", "must be an ISO 8601 date-time"],
    ["an impossible date", { type: "email_opened", email: "pat@example.com", occurredAt: "2026-13-01T09:00:00Z" }, "occurredAt", "must be an ISO 8601 date-time"],
    ["epoch milliseconds", { type: "email_opened", email: "pat@example.com", occurredAt: 1_780_000_000_000 }, "occurredAt", /.+/],
    ["an extra key", { type: "email_opened", email: "pat@example.com", score: 10 }, "(body)", 'Unrecognized key: "score"'],
    ["an unknown type", { type: "tweeted", email: "pat@example.com" }, "type", /must be one of email_opened/],
    ["a bad email", { type: "email_opened", email: "not-an-email" }, "email", "must be an email address"],
    ["a contact id that is not a uuid", { type: "email_opened", contactId: "42" }, "contactId", "must be an id (uuid)"],
    ["a form id that is not a uuid", { type: "form_submitted", contactId, formId: "contact-us" }, "formId", "must be an id (uuid)"],
    ["a campaign too long", { type: "email_opened", contactId, campaign: "x".repeat(201) }, "campaign", /.+/],
  ])("rejects %s", (_name, input, field, message) => {
    const details = problemsOf(interactionInput, input);
    const at = details.find((d) => d.field === field);
    expect(at, JSON.stringify(details)).toBeDefined();
    if (typeof message === "string") expect(at!.message).toBe(message);
    else expect(at!.message).toMatch(message);
  });
});

describe("interactionBatch", () => {
  const item = { type: "email_opened", email: "pat@example.com" };

  it.each([
    ["an array of one", [item]],
    ["the largest array", Array.from({ length: maxInteractionBatch }, () => item)],
    ["an object with interactions", { interactions: [item] }],
    ["items that are checked one by one later", [item, 42, "x", null]],
  ])("accepts %s", (_name, body) => {
    expect(interactionBatch.safeParse(body).success).toBe(true);
  });

  it.each([
    ["an empty array", [], "(body)", "send at least one interaction"],
    ["an empty interactions list", { interactions: [] }, "interactions", "send at least one interaction"],
    ["an object with an extra key", { interactions: [item], source: "crm" }, "(body)", /Unrecognized key/],
    ["a string", "email_opened", "(body)", /.+/],
    ["null", null, "(body)", /.+/],
    ["an object without interactions", { items: [item] }, "(body)", /.+/],
  ])("rejects %s", (_name, body, field, message) => {
    const details = problemsOf(interactionBatch, body);
    const at = details.find((d) => d.field === field);
    expect(at, JSON.stringify(details)).toBeDefined();
    if (typeof message === "string") expect(at!.message).toBe(message);
    else expect(at!.message).toMatch(message);
  });

  // Bug: zod's union hides the array's own "at most 5000" issue behind a generic "Invalid input"
  // because the object branch fails too; the caller never learns the limit.
  it.each([
    ["an array", Array.from({ length: maxInteractionBatch + 1 }, () => item), "(body)"],
    ["an interactions list", { interactions: Array.from({ length: maxInteractionBatch + 1 }, () => item) }, "interactions"],
  ])("rejects more than 5000 in %s and says the limit", (_name, body, field) => {
    const details = problemsOf(interactionBatch, body);
    expect(details).toEqual([{ field, message: `at most ${maxInteractionBatch} per request` }]);
  });
});
