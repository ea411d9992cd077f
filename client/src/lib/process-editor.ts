/**
 * The process editor's draft: an ordered list of stages the user edits freely, turned
 * into the create or update body the API takes. Pure, no Svelte.
 */
import type { BoardStage } from "../../../shared/board.ts";
import type { LeadFlag, RequirementKey, StageField } from "../../../shared/domain/stages.ts";
import type { ProcessCreateInput, ProcessUpdateInput, ProcessView } from "../../../shared/schemas/processes.ts";

export interface StageDraft {
  /** A local id for keyed lists; stable while editing. */
  uid: string;
  /** The stage's id when it exists on the server. */
  id?: string;
  key: string;
  name: string;
  entryRequirements: RequirementKey[];
  gateFlag: LeadFlag | null;
  salesReadyJump: boolean;
  fields: StageField[];
  /** Hours in stage before a card turns amber, then red; both empty: no limits. */
  amberAfterHours: number | null;
  redAfterHours: number | null;
}

export interface ProcessDraft {
  id?: string;
  version?: number;
  name: string;
  conversionRequirements: RequirementKey[];
  stages: StageDraft[];
  /** Removed stage key → the key of the stage its leads move to. */
  moveLeadsTo: Record<string, string>;
}

let counter = 0;
const uid = () => `s${++counter}`;

export function stageDraft(stage?: BoardStage): StageDraft {
  if (!stage) {
    return { uid: uid(), key: "", name: "", entryRequirements: [], gateFlag: null, salesReadyJump: false, fields: [], amberAfterHours: null, redAfterHours: null };
  }
  return {
    uid: uid(),
    id: stage.id,
    key: stage.key,
    name: stage.name,
    entryRequirements: [...stage.entryRequirements],
    gateFlag: stage.gateFlag,
    salesReadyJump: stage.salesReadyJump,
    fields: stage.fields.map((f) => ({ ...f, ...(f.options ? { options: [...f.options] } : {}) })),
    // Events logged before stages had limits carry none.
    amberAfterHours: stage.timeLimits?.amberAfterHours ?? null,
    redAfterHours: stage.timeLimits?.redAfterHours ?? null,
  };
}

export function draftOf(process: ProcessView): ProcessDraft {
  return {
    id: process.id,
    version: process.version,
    name: process.name,
    conversionRequirements: [...process.conversionRequirements],
    stages: [...process.stages].sort((a, b) => a.position - b.position).map((s) => stageDraft(s)),
    moveLeadsTo: {},
  };
}

export function blankDraft(): ProcessDraft {
  return { name: "", conversionRequirements: [], stages: [{ ...stageDraft(), key: "new", name: "New" }], moveLeadsTo: {} };
}

/** "Sales acceptance" → "sales_acceptance": a valid stage key from a name. */
export function keyFromName(name: string): string {
  const key = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .replace(/^[^a-z]+/, "");
  return key.slice(0, 63) || "stage";
}

/** The list with the stage at `index` moved by `delta` places (clamped). */
export function moveStage<T>(list: readonly T[], index: number, delta: number): T[] {
  const target = index + delta;
  if (index < 0 || index >= list.length || target < 0 || target >= list.length) return [...list];
  const next = [...list];
  const [item] = next.splice(index, 1);
  next.splice(target, 0, item as T);
  return next;
}

/** Stages of the saved process that the draft no longer has (matched by id). */
export function removedStages(draft: ProcessDraft, saved: ProcessView | null): BoardStage[] {
  if (!saved) return [];
  const kept = new Set(draft.stages.map((s) => s.id).filter((id): id is string => id !== undefined));
  return saved.stages.filter((s) => !kept.has(s.id));
}

/** An empty number input reads as null (Svelte) or NaN; either means "not set". */
const hours = (value: number | null | undefined): number | null =>
  typeof value === "number" && !Number.isNaN(value) ? value : null;

/**
 * Both limits empty: none. One set: both are sent, so the server names the missing one
 * (`timeLimits.redAfterHours`) rather than dropping the other silently.
 */
export function timeLimitsBody(stage: Pick<StageDraft, "amberAfterHours" | "redAfterHours">) {
  const amber = hours(stage.amberAfterHours);
  const red = hours(stage.redAfterHours);
  if (amber === null && red === null) return null;
  return { amberAfterHours: amber as number, redAfterHours: red as number };
}

function stageBody(stage: StageDraft) {
  return {
    key: stage.key.trim(),
    name: stage.name.trim(),
    entryRequirements: stage.entryRequirements,
    gateFlag: stage.gateFlag,
    salesReadyJump: stage.salesReadyJump,
    ...(stage.fields.length ? { fields: stage.fields } : {}),
    timeLimits: timeLimitsBody(stage),
  };
}

export function createBody(draft: ProcessDraft): ProcessCreateInput {
  return {
    name: draft.name.trim(),
    conversionRequirements: draft.conversionRequirements,
    stages: draft.stages.map(stageBody),
  };
}

export function updateBody(draft: ProcessDraft, saved: ProcessView): ProcessUpdateInput {
  const removed = removedStages(draft, saved).map((s) => s.key);
  const keys = new Set(draft.stages.map((s) => s.key.trim()));
  const moveLeadsTo = Object.fromEntries(
    removed.filter((key) => draft.moveLeadsTo[key] && keys.has(draft.moveLeadsTo[key] ?? "")).map((key) => [key, draft.moveLeadsTo[key] ?? ""]),
  );
  return {
    expectedVersion: draft.version ?? saved.version,
    name: draft.name.trim(),
    conversionRequirements: draft.conversionRequirements,
    stages: draft.stages.map((s) => ({ ...(s.id ? { id: s.id } : {}), ...stageBody(s) })),
    ...(Object.keys(moveLeadsTo).length ? { moveLeadsTo } : {}),
  };
}

/** The time-limit inputs, by the field path their problems carry. */
export const limitFields = {
  "timeLimits.amberAfterHours": "Amber after (h)",
  "timeLimits.redAfterHours": "Red after (h)",
} as const;
export type LimitField = keyof typeof limitFields;

/** Splits a stage's problems (as `stageProblems` words them) into those of each limit input and the rest. */
export function splitLimitProblems(problems: readonly string[]): { byField: Record<LimitField, string[]>; rest: string[] } {
  const byField: Record<LimitField, string[]> = { "timeLimits.amberAfterHours": [], "timeLimits.redAfterHours": [] };
  const rest: string[] = [];
  for (const problem of problems) {
    const field = (Object.keys(limitFields) as LimitField[]).find((f) => problem.startsWith(`${f} `));
    if (field) byField[field].push(problem.slice(field.length + 1));
    else rest.push(problem.startsWith("timeLimits ") ? `Time limits: ${problem.slice("timeLimits ".length)}` : problem);
  }
  return { byField, rest };
}

/** Problems of one stage from INVALID_INPUT details (`stages.2.key` → stage 2). */
export function stageProblems(problems: ReadonlyArray<{ field: string; message: string }>, index: number): string[] {
  const prefix = `stages.${index}.`;
  return problems.filter((p) => p.field.startsWith(prefix)).map((p) => `${p.field.slice(prefix.length)} ${p.message}`);
}
