import { describe, expect, it } from "vitest";
import type { ScoringCondition } from "../../../shared/domain/scoring.ts";
import type { ScoringModelView } from "../../../shared/schemas/scoring.ts";
import {
  blankModelDraft,
  conditionDraft,
  createBody,
  draftOfModel,
  draftProblems,
  isDirty,
  kindsFor,
  looseProblems,
  modelBody,
  newCondition,
  nextGrade,
  patchBody,
  previewBody,
  problemsAt,
  problemsBesides,
  withField,
  withKind,
  withOp,
  type ModelDraft,
} from "../../../client/src/lib/model-editor.ts";

const conditions: ScoringCondition[] = [
  { kind: "behavior", interaction: "form_submitted", points: 10, frequency: "each", withinDays: 30 },
  { kind: "behavior", interaction: "event_attended", points: 25, frequency: "once", minCount: 2, sameContext: true },
  { kind: "behavior", interaction: "email_opened", points: -5, frequency: "none" },
  { kind: "contact", field: "country", op: "in", value: ["FR", "DE"], points: 5 },
  { kind: "account", field: "employeeCount", op: "gte", value: 500, points: 15 },
  { kind: "contact", field: "phone", op: "exists", points: 3 },
];

function model(extra: Partial<ScoringModelView> = {}): ScoringModelView {
  return {
    id: "m1", name: "Web interest", target: "contact", threshold: 50, status: "draft",
    grades: [{ grade: "B", min: 0, max: 49 }, { grade: "A", min: 50, max: 100 }],
    conditions, keepSalesReady: true, version: 3, createdAt: "", updatedAt: "", rescore: null, ...extra,
  };
}

function valid(): ModelDraft {
  return draftOfModel(model());
}

describe("draft ↔ model", () => {
  it("a stored model comes back unchanged through its draft", () => {
    const body = modelBody(draftOfModel(model()));
    expect(body.problems).toEqual([]);
    expect(body.value).toEqual({
      name: "Web interest", target: "contact", threshold: 50, keepSalesReady: true,
      grades: [{ grade: "B", min: 0, max: 49 }, { grade: "A", min: 50, max: 100 }], conditions,
    });
    expect(draftProblems(draftOfModel(model()))).toEqual([]);
  });
  it("inputs are text while typed: numbers, lists and empty optional values are read on the way out", () => {
    const draft = valid();
    draft.name = "  Spaced  ";
    draft.conditions[0]!.withinDays = "";
    draft.conditions[1]!.frequency = "each"; // minCount only travels with "once"
    draft.conditions[3]!.values = [" FR ", "", "IT"];
    draft.conditions[4]!.value = " 1000 ";
    const { value } = modelBody(draft);
    expect(value.name).toBe("Spaced");
    expect(value.conditions[0]).toEqual({ kind: "behavior", interaction: "form_submitted", points: 10, frequency: "each" });
    expect(value.conditions[1]).toEqual({ kind: "behavior", interaction: "event_attended", points: 25, frequency: "each", sameContext: true });
    expect(value.conditions[3]).toMatchObject({ op: "in", value: ["FR", "IT"] });
    expect(value.conditions[4]).toMatchObject({ value: 1000 });
  });
  it("a new model starts as a draft with one behaviour condition and no problems but its name", () => {
    const draft = blankModelDraft();
    expect(draft.conditions).toHaveLength(1);
    expect(draftProblems(draft).map((p) => p.field)).toEqual(["name"]);
    draft.name = "New";
    expect(createBody(modelBody(draft).value)).toMatchObject({ status: "draft", name: "New", threshold: 50, grades: [] });
  });
  it("the preview takes the scoring fields only", () => {
    const body = modelBody(valid()).value;
    expect(Object.keys(previewBody(body)).sort()).toEqual(["conditions", "grades", "keepSalesReady", "target", "threshold"]);
  });
});

describe("editing conditions", () => {
  it("switching kind picks the kind's first field and operator and keeps the points", () => {
    const c = withKind({ ...newCondition(), points: "7" }, "account");
    expect(c).toMatchObject({ kind: "account", field: "name", op: "eq", points: "7", value: "" });
    expect(withKind(c, "behavior").kind).toBe("behavior");
  });
  it("a field keeps the operator when it allows it", () => {
    const c = withOp(withKind(newCondition(), "account"), "contains");
    expect(withField(c, "industry").op).toBe("contains");
    expect(withField(c, "employeeCount").op).toBe("eq");
  });
  it("'is one of' turns the value into a list and back", () => {
    const c = { ...withKind(newCondition(), "contact"), value: "FR" };
    const list = withOp(c, "in");
    expect(list.values).toEqual(["FR"]);
    expect(withOp({ ...list, values: ["", "DE"] }, "eq").value).toBe("DE");
  });
  it("account models offer no contact fields", () => {
    expect(kindsFor("account")).toEqual(["behavior", "account"]);
    expect(kindsFor("contact")).toEqual(["behavior", "contact", "account"]);
  });
  it("grades are proposed one above the other", () => {
    const d = nextGrade([]);
    expect(d).toMatchObject({ grade: "D", min: "0", max: "24" });
    expect(nextGrade([d])).toMatchObject({ grade: "C", min: "25", max: "49" });
  });
  it("round-trips a condition", () => {
    for (const c of conditions) expect(modelBody({ ...valid(), conditions: [conditionDraft(c)] }).value.conditions[0]).toEqual(c);
  });
});

describe("validation", () => {
  const cases: Array<[string, (d: ModelDraft) => void, string, RegExp]> = [
    ["empty name", (d) => (d.name = " "), "name", /empty/],
    ["missing threshold", (d) => (d.threshold = ""), "threshold", /required/],
    ["fractional threshold", (d) => (d.threshold = "2.5"), "threshold", /whole/],
    ["zero threshold", (d) => (d.threshold = "0"), "threshold", /at least 1/],
    ["absurd points", (d) => (d.conditions[0]!.points = "5000"), "conditions.0.points", /at most 1000/],
    ["missing points", (d) => (d.conditions[0]!.points = ""), "conditions.0.points", /required/],
    ["zero-day window", (d) => (d.conditions[0]!.withinDays = "0"), "conditions.0.withinDays", /at least 1 day/],
    ["unreadable minCount", (d) => (d.conditions[1]!.minCount = "x"), "conditions.1.minCount", /number/],
    ["overlapping grades", (d) => (d.grades[1]!.min = "40"), "grades.1", /overlaps B/],
    ["a gap between grades", (d) => (d.grades[1]!.min = "60"), "grades.1", /50-59 have no grade/],
    ["min above max", (d) => (d.grades[0]!.min = "60"), "grades.0", /above max/],
    ["empty grade name", (d) => (d.grades[0]!.grade = ""), "grades.0.grade", /empty/],
    ["a text where a number belongs", (d) => (d.conditions[4]!.value = "many"), "conditions.4.value", /not a number/],
    ["no value", (d) => (d.conditions[4]!.value = ""), "conditions.4.value", /required/],
    ["an empty list", (d) => (d.conditions[3]!.values = ["", " "]), "conditions.3.value", /required/],
    ["a contact field in an account model", (d) => (d.target = "account"), "conditions.3.kind", /account model/],
    ["no conditions", (d) => (d.conditions = []), "conditions", /at least one condition/],
  ];
  it.each(cases)("%s", (_name, change, field, message) => {
    const draft = valid();
    change(draft);
    const problems = draftProblems(draft);
    expect(problemsAt(problems, field).join(" | ")).toMatch(message);
  });
  it("an unreadable input is reported once, not again by the schema", () => {
    const draft = valid();
    draft.threshold = "";
    expect(draftProblems(draft).filter((p) => p.field === "threshold")).toHaveLength(1);
  });
  it("row messages are those not shown at an input", () => {
    const problems = [
      { field: "grades.1", message: "overlaps" },
      { field: "grades.1.min", message: "too low" },
      { field: "grades.1.color", message: "odd" },
      { field: "grades.10", message: "other row" },
    ];
    expect(problemsBesides(problems, "grades.1", ["grade", "min", "max"])).toEqual(["overlaps", "color: odd"]);
    expect(looseProblems([...problems, { field: "(body)", message: "bad" }])).toEqual(["(body): bad"]);
  });
});

describe("saving", () => {
  it("a patch names only what changed, with the version it was read at", () => {
    const saved = model();
    const draft = draftOfModel(saved);
    expect(patchBody(modelBody(draft).value, saved)).toBeNull();
    expect(isDirty(draft, saved)).toBe(false);
    draft.threshold = "60";
    draft.conditions[0]!.points = "12";
    const patch = patchBody(modelBody(draft).value, saved);
    expect(Object.keys(patch!).sort()).toEqual(["conditions", "expectedVersion", "threshold"]);
    expect(patch).toMatchObject({ threshold: 60, expectedVersion: 3 });
    expect(isDirty(draft, saved)).toBe(true);
    expect(isDirty(blankModelDraft(), null)).toBe(true);
  });
});
