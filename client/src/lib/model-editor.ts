/**
 * The scoring model editor's draft: what the inputs hold (numbers stay text while typed),
 * turned into the body the API validates, checked here with the same shared schema so
 * problems show next to the inputs before anything is sent. Pure, no Svelte.
 */
import {
  frequencies,
  interactionTypes,
  opsByFieldType,
  scoringFields,
  type FieldOp,
  type Frequency,
  type InteractionType,
  type ModelStatus,
  type ModelTarget,
  type ScoringCondition,
  type ScoringFieldType,
} from "../../../shared/domain/scoring.ts";
import {
  modelProblems,
  scoringModelInput,
  type Problem,
  type ScoringModelInput,
  type ScoringModelPatch,
  type ScoringModelView,
  type ScoringPreviewInput,
} from "../../../shared/schemas/scoring.ts";

export type ConditionKind = ScoringCondition["kind"];

export const kindLabels: Record<ConditionKind, string> = {
  behavior: "Behaviour",
  contact: "Contact field",
  account: "Account field",
};

export const frequencyLabels: Record<Frequency, string> = {
  each: "each time",
  once: "at least",
  none: "never",
};

export interface GradeDraft {
  uid: string;
  grade: string;
  min: string;
  max: string;
}

export interface ConditionDraft {
  uid: string;
  kind: ConditionKind;
  points: string;
  // Behaviour conditions.
  interaction: InteractionType;
  frequency: Frequency;
  /** For "once": how many occurrences earn the points. */
  minCount: string;
  /** Empty = no window. */
  withinDays: string;
  sameContext: boolean;
  // Field conditions.
  field: string;
  op: FieldOp;
  value: string;
  /** The values of "is one of", one input each. */
  values: string[];
}

export interface ModelDraft {
  name: string;
  target: ModelTarget;
  threshold: string;
  keepSalesReady: boolean;
  grades: GradeDraft[];
  conditions: ConditionDraft[];
}

/** The model fields a draft edits, as the API takes them (before validation). */
export interface ModelBody {
  name: string;
  target: ModelTarget;
  threshold: number;
  keepSalesReady: boolean;
  grades: Array<{ grade: string; min: number; max: number }>;
  conditions: ScoringCondition[];
}

let counter = 0;
const uid = (prefix: string) => `${prefix}${++counter}`;

export type FieldSpec = { type: ScoringFieldType; label: string };

export function fieldsOf(kind: "contact" | "account"): Array<[string, FieldSpec]> {
  return Object.entries(scoringFields[kind] as Record<string, FieldSpec>);
}

export function fieldSpec(kind: ConditionKind, field: string): FieldSpec | undefined {
  if (kind === "behavior") return undefined;
  const fields = scoringFields[kind] as Record<string, FieldSpec>;
  return Object.hasOwn(fields, field) ? fields[field] : undefined;
}

export function opsFor(kind: ConditionKind, field: string): readonly FieldOp[] {
  const spec = fieldSpec(kind, field);
  return spec ? opsByFieldType[spec.type] : [];
}

/** The kinds of condition a model of this target may have: account models test no single contact's fields. */
export function kindsFor(target: ModelTarget): ConditionKind[] {
  return target === "account" ? ["behavior", "account"] : ["behavior", "contact", "account"];
}

const blankCondition = (): ConditionDraft => ({
  uid: uid("c"),
  kind: "behavior",
  points: "10",
  interaction: interactionTypes[0],
  frequency: "each",
  minCount: "",
  withinDays: "",
  sameContext: false,
  field: "",
  op: "eq",
  value: "",
  values: [""],
});

/** A new condition of a kind: behaviour "each time", or a field test on the kind's first field. */
export function newCondition(kind: ConditionKind = "behavior"): ConditionDraft {
  return withKind(blankCondition(), kind);
}

/** The condition switched to another kind; its points stay. */
export function withKind(draft: ConditionDraft, kind: ConditionKind): ConditionDraft {
  if (kind === "behavior") return { ...draft, kind };
  const [first] = fieldsOf(kind);
  const field = first?.[0] ?? "";
  return { ...draft, kind, field, op: opsFor(kind, field)[0] ?? "eq", value: "", values: [""] };
}

/** Another field: the operator stays when the field allows it; the value starts empty. */
export function withField(draft: ConditionDraft, field: string): ConditionDraft {
  const ops = opsFor(draft.kind, field);
  return { ...draft, field, op: ops.includes(draft.op) ? draft.op : (ops[0] ?? "eq"), value: "", values: [""] };
}

/** Another operator: a single value becomes the first of a list for "is one of", and back. */
export function withOp(draft: ConditionDraft, op: FieldOp): ConditionDraft {
  if (op === "in" && draft.op !== "in") return { ...draft, op, values: draft.value ? [draft.value] : [""] };
  if (op !== "in" && draft.op === "in") return { ...draft, op, value: draft.values.find((v) => v.trim()) ?? "" };
  return { ...draft, op };
}

const text = (value: number | string | undefined): string => (value === undefined ? "" : String(value));

export function conditionDraft(condition: ScoringCondition): ConditionDraft {
  const base = blankCondition();
  if (condition.kind === "behavior") {
    return {
      ...base,
      kind: "behavior",
      points: String(condition.points),
      interaction: condition.interaction,
      frequency: condition.frequency,
      minCount: text(condition.minCount),
      withinDays: text(condition.withinDays),
      sameContext: condition.sameContext ?? false,
    };
  }
  const list = Array.isArray(condition.value) ? condition.value.map(String) : null;
  return {
    ...base,
    kind: condition.kind,
    points: String(condition.points),
    field: condition.field,
    op: condition.op,
    value: list ? (list[0] ?? "") : text(condition.value as string | number | undefined),
    values: list && list.length > 0 ? list : [text(condition.value as string | number | undefined)],
  };
}

export function gradeDraft(band?: { grade: string; min: number; max: number }): GradeDraft {
  return { uid: uid("g"), grade: band?.grade ?? "", min: text(band?.min), max: text(band?.max) };
}

export function blankModelDraft(): ModelDraft {
  return {
    name: "",
    target: "contact",
    threshold: "50",
    keepSalesReady: true,
    grades: [],
    conditions: [newCondition("behavior")],
  };
}

export function draftOfModel(model: ScoringModelView): ModelDraft {
  return {
    name: model.name,
    target: model.target,
    threshold: String(model.threshold),
    keepSalesReady: model.keepSalesReady,
    grades: model.grades.map((g) => gradeDraft(g)),
    conditions: model.conditions.map(conditionDraft),
  };
}

/** The next band above the highest one, e.g. after D 0–24 comes C 25–49. */
export function nextGrade(grades: readonly GradeDraft[]): GradeDraft {
  const maxes = grades.map((g) => (g.max.trim() === "" ? Number.NaN : Number(g.max))).filter(Number.isFinite);
  const min = maxes.length ? Math.max(...maxes) + 1 : 0;
  const names = new Set(grades.map((g) => g.grade.trim().toUpperCase()));
  const letter = ["D", "C", "B", "A", "E", "F"].find((l) => !names.has(l)) ?? "";
  return { uid: uid("g"), grade: letter, min: String(min), max: String(min + 24) };
}

interface Converted<T> {
  value: T;
  problems: Problem[];
}

/** A typed whole number: "" is missing (undefined), anything else must parse. */
function numberAt(raw: string, field: string, problems: Problem[], required: boolean): number | undefined {
  const t = raw.trim();
  if (t === "") {
    if (required) problems.push({ field, message: "is required" });
    return required ? Number.NaN : undefined;
  }
  const n = Number(t);
  if (!Number.isFinite(n)) {
    problems.push({ field, message: "must be a number" });
    return Number.NaN;
  }
  return n;
}

function fieldValue(draft: ConditionDraft, at: string, problems: Problem[]): string | number | Array<string | number> | undefined {
  if (draft.op === "exists") return undefined;
  const numeric = fieldSpec(draft.kind, draft.field)?.type === "number";
  const one = (raw: string): string | number | undefined => {
    const t = raw.trim();
    if (t === "") return undefined;
    if (!numeric) return t;
    const n = Number(t);
    if (!Number.isFinite(n)) {
      problems.push({ field: `${at}.value`, message: `"${t}" is not a number` });
      return undefined;
    }
    return n;
  };
  if (draft.op === "in") {
    const list = draft.values.map(one).filter((v): v is string | number => v !== undefined);
    return list.length ? list : undefined;
  }
  return one(draft.value);
}

function toCondition(draft: ConditionDraft, index: number, problems: Problem[]): ScoringCondition {
  const at = `conditions.${index}`;
  const points = numberAt(draft.points, `${at}.points`, problems, true) ?? Number.NaN;
  if (draft.kind === "behavior") {
    const withinDays = numberAt(draft.withinDays, `${at}.withinDays`, problems, false);
    const minCount = draft.frequency === "once" ? numberAt(draft.minCount, `${at}.minCount`, problems, false) : undefined;
    return {
      kind: "behavior",
      interaction: draft.interaction,
      points,
      frequency: draft.frequency,
      ...(minCount !== undefined ? { minCount } : {}),
      ...(withinDays !== undefined ? { withinDays } : {}),
      ...(draft.sameContext ? { sameContext: true } : {}),
    };
  }
  const value = fieldValue(draft, at, problems);
  return { kind: draft.kind, field: draft.field, op: draft.op, points, ...(value !== undefined ? { value } : {}) };
}

/** The draft as the API's model fields, and the problems found while reading the inputs. */
export function modelBody(draft: ModelDraft): Converted<ModelBody> {
  const problems: Problem[] = [];
  const grades = draft.grades.map((g, i) => ({
    grade: g.grade.trim(),
    min: numberAt(g.min, `grades.${i}.min`, problems, true) ?? Number.NaN,
    max: numberAt(g.max, `grades.${i}.max`, problems, true) ?? Number.NaN,
  }));
  const value: ModelBody = {
    name: draft.name.trim(),
    target: draft.target,
    threshold: numberAt(draft.threshold, "threshold", problems, true) ?? Number.NaN,
    keepSalesReady: draft.keepSalesReady,
    grades,
    conditions: draft.conditions.map((c, i) => toCondition(c, i, problems)),
  };
  return { value, problems };
}

const same = (a: Problem, b: Problem) => a.field === b.field && a.message === b.message;

/**
 * Everything wrong with the draft, per field path (`threshold`, `grades.1.min`,
 * `conditions.0.value`): unreadable inputs first, then the shared schema's and model rules'
 * problems on the fields that could be read.
 */
export function draftProblems(draft: ModelDraft): Problem[] {
  const { value, problems } = modelBody(draft);
  const unreadable = new Set(problems.map((p) => p.field));
  const found = [...problems];
  const add = (p: Problem) => {
    if (unreadable.has(p.field) || found.some((q) => same(p, q))) return;
    found.push(p);
  };
  const parsed = scoringModelInput.safeParse({ ...value, status: "draft" });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) add({ field: issue.path.length ? issue.path.join(".") : "(model)", message: issue.message });
  }
  // The model rules also run when the schema stopped early, so every problem shows at once.
  for (const p of modelProblems(value)) add(p);
  return found;
}

/** The messages for exactly this field path. */
export function problemsAt(problems: readonly Problem[], field: string): string[] {
  return problems.filter((p) => p.field === field).map((p) => p.message);
}

/** The messages under a path other than the given inputs' own, e.g. a grade row's overlap (`grades.1`). */
export function problemsBesides(problems: readonly Problem[], prefix: string, own: readonly string[]): string[] {
  const owned = new Set(own.map((f) => `${prefix}.${f}`));
  return problems
    .filter((p) => (p.field === prefix || p.field.startsWith(`${prefix}.`)) && !owned.has(p.field))
    .map((p) => (p.field === prefix ? p.message : `${p.field.slice(prefix.length + 1)}: ${p.message}`));
}

/** Problems of no input the editor shows (e.g. "(body)"), for the form's summary. */
export function looseProblems(problems: readonly Problem[]): string[] {
  const known = /^(name|target|threshold|status|keepSalesReady|grades|conditions)(\.|$)/;
  return problems.filter((p) => !known.test(p.field)).map((p) => `${p.field}: ${p.message}`);
}

/** What a preview of the draft sends. */
export function previewBody(body: ModelBody): ScoringPreviewInput {
  return { target: body.target, threshold: body.threshold, grades: body.grades, conditions: body.conditions, keepSalesReady: body.keepSalesReady };
}

const editable = ["name", "target", "threshold", "keepSalesReady", "grades", "conditions"] as const;

/** The stored model's fields as a draft would send them, for comparing. */
export function storedBody(model: ScoringModelView): ModelBody {
  return modelBody(draftOfModel(model)).value;
}

/** What changed against the stored model, with the version it was read at; null when nothing did. */
export function patchBody(body: ModelBody, saved: ScoringModelView): ScoringModelPatch | null {
  const before = storedBody(saved);
  const patch: Record<string, unknown> = {};
  for (const key of editable) {
    if (JSON.stringify(body[key]) !== JSON.stringify(before[key])) patch[key] = body[key];
  }
  if (Object.keys(patch).length === 0) return null;
  return { ...(patch as Omit<ScoringModelPatch, "expectedVersion">), expectedVersion: saved.version };
}

export function isDirty(draft: ModelDraft, saved: ScoringModelView | null): boolean {
  if (!saved) return true;
  return patchBody(modelBody(draft).value, saved) !== null;
}

/** The create body of a new model (saved as a draft; publishing is a separate step). */
export function createBody(body: ModelBody, status: ModelStatus = "draft"): ScoringModelInput {
  return { ...body, status };
}

export { frequencies, interactionTypes };
