/**
 * Pure rules of the board's filters: reading them from and writing them to the page's query
 * string (`?owner=&campaign=&form=&grade=A,B&ready=1&q=`, plus `process=` and `view=` for the
 * board itself), which cards they let through, and the choices the filter bar offers.
 * No DOM, no Svelte: the query string is passed in and returned.
 */
import type { LeadCard } from "../../../shared/board.ts";
import { boardViews, type BoardView } from "../../../shared/domain/views.ts";
import { id } from "../../../shared/schemas/common.ts";
import { boardFilters, type BoardFilters } from "../../../shared/schemas/saved-views.ts";
import { shownScore } from "./score-logic.ts";

export type { BoardFilters };

/** The query parameters the filters own; every other parameter (`model=`, `process=`, …) is kept as it is. */
export const filterParams = ["owner", "campaign", "form", "grade", "ready", "q"] as const;

const fields = boardFilters.shape;
const maxTextLength = 200;
const maxGrades = 20;

/** One field's value if the schema accepts it, else undefined: a bad value drops only itself. */
function valid<K extends keyof BoardFilters>(key: K, value: unknown): BoardFilters[K] | undefined {
  if (value === undefined) return undefined;
  const parsed = fields[key].safeParse(value);
  return parsed.success ? (parsed.data as BoardFilters[K]) : undefined;
}

/** `grade=A,B` → ["A", "B"]: trimmed, without empties or repeats, at most 20. */
function parseGrades(value: string | null): string[] | undefined {
  if (value === null) return undefined;
  const grades = [...new Set(value.split(",").map((g) => g.trim()).filter(Boolean))].slice(0, maxGrades);
  if (grades.length === 0) return undefined;
  // A grade the schema refuses (too long) is dropped alone, not the whole list.
  const kept = grades.filter((g) => fields.grades.safeParse([g]).success);
  return kept.length ? kept : undefined;
}

function parseReady(value: string | null): boolean | undefined {
  if (value === "1" || value === "true") return true;
  if (value === "0" || value === "false") return false;
  return undefined;
}

/** Drops the keys whose value is undefined, so two equal filters compare (and serialise) alike. */
function compact(filters: { [K in keyof BoardFilters]: BoardFilters[K] | undefined }): BoardFilters {
  const out: BoardFilters = {};
  for (const [key, value] of Object.entries(filters)) {
    if (value !== undefined) Object.assign(out, { [key]: value });
  }
  return out;
}

/** The filters named in a query string; unknown or invalid values are ignored one by one. */
export function filtersFromSearch(search: string): BoardFilters {
  const params = new URLSearchParams(search);
  const text = params.get("q");
  return compact({
    owner: valid("owner", params.get("owner") ?? undefined),
    campaign: valid("campaign", params.get("campaign") ?? undefined),
    form: valid("form", params.get("form") ?? undefined),
    grades: parseGrades(params.get("grade")),
    salesReady: parseReady(params.get("ready")),
    // A search longer than the limit is cut rather than lost.
    text: valid("text", text === null ? undefined : text.trim().slice(0, maxTextLength)),
  });
}

/** Filters from elsewhere (a saved view, an older client): the valid parts, normalised. */
export function cleanFilters(value: unknown): BoardFilters {
  if (typeof value !== "object" || value === null) return {};
  const v = value as Record<string, unknown>;
  const grades = Array.isArray(v.grades) ? parseGrades(v.grades.filter((g) => typeof g === "string" && !g.includes(",")).join(",")) : undefined;
  return compact({
    owner: valid("owner", v.owner),
    campaign: valid("campaign", typeof v.campaign === "string" ? v.campaign.trim() : undefined),
    form: valid("form", v.form),
    grades,
    salesReady: valid("salesReady", v.salesReady),
    text: valid("text", typeof v.text === "string" ? v.text.trim().slice(0, maxTextLength) : undefined),
  });
}

/** Sets or removes `key`, keeping the parameter's place when it stays. */
function put(params: URLSearchParams, key: string, value: string | undefined): void {
  if (value === undefined || value === "") params.delete(key);
  else params.set(key, value);
}

/** "?a=1&b=2" or "" — commas stay readable (`grade=A,B`); URLSearchParams reads them back alike. */
function toSearch(params: URLSearchParams): string {
  const text = params.toString().replaceAll("%2C", ",");
  return text ? `?${text}` : "";
}

/** The query with the filters written in and every other parameter kept. */
export function searchWithFilters(search: string, filters: BoardFilters): string {
  const params = new URLSearchParams(search);
  put(params, "owner", filters.owner);
  put(params, "campaign", filters.campaign);
  put(params, "form", filters.form);
  put(params, "grade", filters.grades?.join(","));
  put(params, "ready", filters.salesReady === undefined ? undefined : filters.salesReady ? "1" : "0");
  put(params, "q", filters.text);
  return toSearch(params);
}

/** Which board a link opens: `process=<id>` and `view=<view>`; invalid values are ignored. */
export interface TargetParams {
  processId?: string;
  view?: BoardView;
}

const isBoardView = (value: string): value is BoardView => (boardViews as readonly string[]).includes(value);

/** The board named in the query; a view the role may not see (`allowed`) is ignored too. */
export function targetFromSearch(search: string, allowed: readonly BoardView[] = boardViews): TargetParams {
  const params = new URLSearchParams(search);
  const target: TargetParams = {};
  const processId = params.get("process");
  if (processId !== null && id.safeParse(processId).success) target.processId = processId;
  const view = params.get("view");
  if (view !== null && isBoardView(view) && allowed.includes(view)) target.view = view;
  return target;
}

/** The query with `process=` and `view=` set to the target (removed when absent), others kept. */
export function searchWithTarget(search: string, target: TargetParams): string {
  const params = new URLSearchParams(search);
  put(params, "process", target.processId);
  put(params, "view", target.view);
  return toSearch(params);
}

export function sameFilters(a: BoardFilters, b: BoardFilters): boolean {
  return searchWithFilters("", a) === searchWithFilters("", b);
}

/** How many filters are set (the text counts as one). */
export function activeFilterCount(filters: BoardFilters): number {
  return Object.values(filters).filter((v) => v !== undefined).length;
}

/** Lower case without accents, so "Zoë" is found by "zoe". */
export function foldText(text: string): string {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The card's text that the search looks in. */
function searchable(card: LeadCard): string {
  return foldText(
    [card.topic, card.contactName, card.companyName, card.ownerName, card.campaign, card.formName]
      .filter((t): t is string => typeof t === "string" && t !== "")
      .join("\n"),
  );
}

/**
 * Whether a card passes every filter. `userId` is who "me" is; `modelId` is the model whose
 * grade the card shows (null: the best score), so the grade filter matches what is on screen.
 * The text matches when every word of it appears in the topic, contact, company, owner,
 * campaign or form name, ignoring case and accents.
 */
export function matchesFilters(card: LeadCard, filters: BoardFilters, userId: string | null, modelId: string | null = null): boolean {
  const owner = filters.owner;
  if (owner === "me" && (userId === null || card.ownerId !== userId)) return false;
  if (owner === "none" && card.ownerId !== null) return false;
  if (owner !== undefined && owner !== "me" && owner !== "none" && card.ownerId !== owner) return false;
  if (filters.campaign !== undefined && card.campaign !== filters.campaign) return false;
  if (filters.form !== undefined && card.formId !== filters.form) return false;
  if (filters.salesReady !== undefined && card.salesReady !== filters.salesReady) return false;
  if (filters.grades !== undefined) {
    const grade = shownScore(card, modelId)?.grade ?? null;
    if (grade === null || !filters.grades.includes(grade)) return false;
  }
  if (filters.text !== undefined) {
    const haystack = searchable(card);
    const words = foldText(filters.text).split(/\s+/).filter(Boolean);
    if (!words.every((w) => haystack.includes(w))) return false;
  }
  return true;
}

export interface FilterOption {
  value: string;
  label: string;
}

export interface FilterOptions {
  owners: FilterOption[];
  campaigns: FilterOption[];
  forms: FilterOption[];
  grades: string[];
}

const byLabel = (a: FilterOption, b: FilterOption) => a.label.localeCompare(b.label) || a.value.localeCompare(b.value);

/**
 * The choices the filter bar offers: the owners, campaigns, forms and grades of the cards on
 * the board, plus whatever is selected now (a shared link may name an owner with no card here).
 */
export function filterOptions(cards: Iterable<LeadCard>, selected: BoardFilters, modelId: string | null = null): FilterOptions {
  const owners = new Map<string, string>();
  const campaigns = new Set<string>();
  const forms = new Map<string, string>();
  const grades = new Set<string>();
  for (const card of cards) {
    if (card.ownerId !== null) owners.set(card.ownerId, card.ownerName ?? owners.get(card.ownerId) ?? "Unnamed user");
    if (card.campaign) campaigns.add(card.campaign);
    if (card.formId !== null && card.formId !== undefined) forms.set(card.formId, card.formName ?? forms.get(card.formId) ?? "Unnamed form");
    const grade = shownScore(card, modelId)?.grade;
    if (grade) grades.add(grade);
  }
  const owner = selected.owner;
  if (owner !== undefined && owner !== "me" && owner !== "none" && !owners.has(owner)) owners.set(owner, "Another owner");
  if (selected.campaign !== undefined) campaigns.add(selected.campaign);
  if (selected.form !== undefined && !forms.has(selected.form)) forms.set(selected.form, "Another form");
  for (const g of selected.grades ?? []) grades.add(g);
  return {
    owners: [...owners].map(([value, label]) => ({ value, label })).sort(byLabel),
    campaigns: [...campaigns].map((c) => ({ value: c, label: c })).sort(byLabel),
    forms: [...forms].map(([value, label]) => ({ value, label })).sort(byLabel),
    grades: [...grades].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })),
  };
}

/** "Showing 42 of 320 leads", "Showing 1 of 1 lead"; "… (loading…)" while the board's cards are still arriving. */
export function countText(shown: number, total: number, loading = false): string {
  return `Showing ${shown} of ${total} ${total === 1 ? "lead" : "leads"}${loading ? " (loading…)" : ""}`;
}
