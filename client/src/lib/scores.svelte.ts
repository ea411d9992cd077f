/**
 * The board's scores: which model the cards show (kept in the page's `?model=` query), the
 * live models to choose from, and the breakdowns of scores, fetched once per lead state.
 */
import { SvelteMap } from "svelte/reactivity";
import type { ScoreExplanation, ScoringModelView } from "../../../shared/schemas/scoring.ts";
import { errorMessage } from "./api.ts";
import { effectiveModel, modelFromSearch, searchWithModel } from "./score-logic.ts";
import { leadScores, listScoringModels } from "./scoring-api.ts";

export type ExplanationEntry =
  | { status: "loading" }
  | { status: "ready"; scores: ScoreExplanation[] }
  | { status: "error"; message: string };

export interface ScoresApi {
  listModels: () => Promise<ScoringModelView[]>;
  leadScores: (leadId: string) => Promise<ScoreExplanation[]>;
}

/** Where the choice is kept: the page's location (tests pass a stand-in). */
export interface QueryStore {
  read: () => string;
  write: (search: string) => void;
}

const pageQuery: QueryStore = {
  read: () => (typeof location === "undefined" ? "" : location.search),
  write: (search) => history.replaceState(history.state, "", `${location.pathname}${search}${location.hash}`),
};

const cacheSize = 300;
const refreshMs = 10_000;

export class BoardScores {
  /** The model chosen in the selector or the URL; null = the best score. */
  chosen = $state<string | null>(null);
  /** The live models, null until loaded. */
  models = $state.raw<ScoringModelView[] | null>(null);
  readonly liveIds = $derived(this.models?.map((m) => m.id) ?? null);
  /** The model the cards show: the chosen one while it is live, else the best. */
  readonly modelId = $derived(effectiveModel(this.chosen, this.liveIds));
  readonly #explanations = new SvelteMap<string, ExplanationEntry>();
  /** The last breakdown loaded per lead: shown while a newer one loads, so an open popover does not flicker. */
  readonly #lastLoaded = new SvelteMap<string, ScoreExplanation[]>();
  readonly #api: ScoresApi;
  readonly #query: QueryStore;
  #loadedAt = 0;

  constructor(api: ScoresApi = { listModels: listScoringModels, leadScores }, query: QueryStore = pageQuery) {
    this.#api = api;
    this.#query = query;
    this.chosen = modelFromSearch(query.read());
  }

  /** Loads the live models (again when `force`, or when the list is older than a few seconds). */
  async loadModels(force = false): Promise<void> {
    if (!force && Date.now() - this.#loadedAt < refreshMs) return;
    this.#loadedAt = Date.now();
    try {
      const all = await this.#api.listModels();
      this.models = all.filter((m) => m.status === "live");
    } catch {
      // The selector keeps "Best", which needs no list.
      this.#loadedAt = 0;
      if (this.models === null) this.models = [];
    }
  }

  select(modelId: string | null): void {
    this.chosen = modelId;
    this.#query.write(searchWithModel(this.#query.read(), modelId));
  }

  modelName(modelId: string | null): string | null {
    if (modelId === null) return null;
    return this.models?.find((m) => m.id === modelId)?.name ?? null;
  }

  /** The breakdown of a lead's scores in the state `key` names (see explanationKey), once requested. */
  explanation(key: string): ExplanationEntry | undefined {
    return this.#explanations.get(key);
  }

  /** Fetches the breakdown unless it is cached (call from an effect or a handler, not while rendering). */
  request(leadId: string, key: string): void {
    if (this.#explanations.has(key)) return;
    this.#remember(key, { status: "loading" });
    this.#api.leadScores(leadId).then(
      (scores) => {
        this.#remember(key, { status: "ready", scores });
        this.#lastLoaded.delete(leadId);
        this.#lastLoaded.set(leadId, scores);
        if (this.#lastLoaded.size > cacheSize) this.#lastLoaded.delete(this.#lastLoaded.keys().next().value ?? "");
      },
      (err: unknown) => this.#remember(key, { status: "error", message: errorMessage(err) }),
    );
  }

  /** What to show for a lead's breakdown: the entry for `key` once loaded, else the last one loaded for the lead. */
  shownExplanation(leadId: string, key: string): ExplanationEntry | undefined {
    const entry = this.#explanations.get(key);
    if (entry?.status === "ready" || entry?.status === "error") return entry;
    const last = this.#lastLoaded.get(leadId);
    return last ? { status: "ready", scores: last } : entry;
  }

  /** Fetches again, e.g. after an error. */
  forget(key: string): void {
    this.#explanations.delete(key);
  }

  #remember(key: string, entry: ExplanationEntry): void {
    this.#explanations.delete(key);
    this.#explanations.set(key, entry);
    // Oldest first: a Map keeps insertion order, so the first keys are the least recently stored.
    while (this.#explanations.size > cacheSize) {
      const oldest = this.#explanations.keys().next().value;
      if (oldest === undefined) break;
      this.#explanations.delete(oldest);
    }
  }
}
