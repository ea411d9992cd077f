/**
 * The "Scoring models" page: the models, the one being edited with its live preview,
 * saving and publishing, the progress of background rescores (polled about once a second
 * while one runs) and the insights of the chosen model.
 */
import type { ModelInsights, ScorePreview, ScoringModelPatch, ScoringModelView } from "../../../shared/schemas/scoring.ts";
import { ApiError, errorMessage, fieldProblems } from "./api.ts";
import { debounce, latest } from "./debounce.ts";
import {
  blankModelDraft,
  createBody,
  draftOfModel,
  draftProblems,
  isDirty,
  modelBody,
  patchBody,
  previewBody,
  type ModelDraft,
} from "./model-editor.ts";
import type { Notices } from "./notices.svelte.ts";
import {
  createScoringModel,
  getScoringModel,
  listScoringModels,
  previewScoringModel,
  scoringModelInsights,
  updateScoringModel,
} from "./scoring-api.ts";

const previewDelayMs = 400;
const pollMs = 1_000;

export class ScoringModelsState {
  models = $state.raw<ScoringModelView[]>([]);
  /** The stored model being edited; null while a new one is drafted. */
  saved = $state.raw<ScoringModelView | null>(null);
  draft = $state<ModelDraft | null>(null);
  /** The last refusal of a save, with the server's per-field details. */
  serverError = $state<unknown>(null);
  /** A save was tried with problems left: say so next to the buttons. */
  attempted = $state(false);
  busy = $state(false);
  preview = $state.raw<ScorePreview | null>(null);
  previewing = $state(false);
  previewError = $state<string | null>(null);
  insights = $state.raw<ModelInsights | null>(null);
  insightsError = $state<string | null>(null);

  readonly clientProblems = $derived(this.draft ? draftProblems(this.draft) : []);
  /** What the inputs show: the draft's own problems, else what the server refused. */
  readonly problems = $derived(this.clientProblems.length > 0 ? this.clientProblems : fieldProblems(this.serverError));
  readonly dirty = $derived(this.draft ? isDirty(this.draft, this.saved) : false);

  readonly #notices: Notices;
  readonly #polls = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #previewTurn = latest();
  readonly #insightsTurn = latest();
  readonly #previewSoon = debounce(() => void this.#runPreview(), previewDelayMs);
  #stopped = false;

  constructor(notices: Notices) {
    this.#notices = notices;
  }

  async load(): Promise<void> {
    try {
      this.models = await listScoringModels();
      for (const m of this.models) this.#watch(m);
    } catch (err) {
      this.#notices.toast(`Could not load the scoring models: ${errorMessage(err)}`);
    }
  }

  /** Starts editing a stored model, or a new one (null). */
  edit(model: ScoringModelView | null): void {
    this.saved = model;
    this.draft = model ? draftOfModel(model) : blankModelDraft();
    this.serverError = null;
    this.attempted = false;
    this.preview = null;
    this.previewError = null;
    this.insights = null;
    this.insightsError = null;
    if (model) void this.loadInsights(model.id);
  }

  /** The draft changed: old refusals no longer apply, and the preview follows after a pause. */
  draftChanged(canPreview: boolean): void {
    this.serverError = null;
    if (canPreview) this.#previewSoon();
  }

  async save(): Promise<void> {
    await this.#store(null);
  }

  async publish(): Promise<void> {
    await this.#store("live");
  }

  async unpublish(): Promise<void> {
    const saved = this.saved;
    if (!saved || this.busy) return;
    await this.#send(() => updateScoringModel(saved.id, { status: "draft", expectedVersion: saved.version }), `“${saved.name}” is a draft again`);
  }

  async loadInsights(id: string): Promise<void> {
    const current = this.#insightsTurn.next();
    try {
      const insights = await scoringModelInsights(id);
      if (current() && this.saved?.id === id) {
        this.insights = insights;
        this.insightsError = null;
      }
    } catch (err) {
      if (current()) this.insightsError = errorMessage(err);
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#previewSoon.cancel();
    for (const timer of this.#polls.values()) clearTimeout(timer);
    this.#polls.clear();
  }

  /** Saves the draft (and publishes it when `status` is "live"): one create or one patch, then the status. */
  async #store(status: "live" | null): Promise<void> {
    const draft = this.draft;
    if (!draft || this.busy) return;
    if (this.clientProblems.length > 0) {
      this.attempted = true;
      return;
    }
    this.attempted = false;
    const body = modelBody(draft).value;
    const saved = this.saved;
    const verb = status === "live" ? "published" : "saved";
    await this.#send(async () => {
      if (!saved) {
        const created = await createScoringModel(createBody(body));
        this.#replace(created);
        this.saved = created;
        return status === "live" ? updateScoringModel(created.id, { status: "live", expectedVersion: created.version }) : created;
      }
      const changes = patchBody(body, saved);
      const patch: ScoringModelPatch | null =
        status === "live" && saved.status !== "live" ? { ...(changes ?? {}), status: "live", expectedVersion: saved.version } : changes;
      return patch ? updateScoringModel(saved.id, patch) : saved;
    }, `“${body.name}” ${verb}`);
  }

  async #send(command: () => Promise<ScoringModelView>, success: string): Promise<void> {
    this.busy = true;
    this.serverError = null;
    try {
      const model = await command();
      this.#replace(model);
      this.edit(model);
      this.#notices.toast(success, "info");
      this.#watch(model);
    } catch (err) {
      this.serverError = err;
      if (err instanceof ApiError && err.code === "CONFLICT" && this.saved) {
        this.#notices.toast("Someone changed this model first; reloaded it (your edits were discarded)");
        await this.#reload(this.saved.id);
      } else if (fieldProblems(err).length === 0) {
        this.#notices.toast(errorMessage(err));
      }
    } finally {
      this.busy = false;
    }
  }

  async #reload(id: string): Promise<void> {
    try {
      const fresh = await getScoringModel(id);
      this.#replace(fresh);
      this.edit(fresh);
    } catch (err) {
      this.#notices.toast(errorMessage(err));
    }
  }

  #replace(model: ScoringModelView): void {
    const known = this.models.some((m) => m.id === model.id);
    this.models = known ? this.models.map((m) => (m.id === model.id ? model : m)) : [...this.models, model];
  }

  async #runPreview(): Promise<void> {
    const draft = this.draft;
    if (!draft) return;
    // The name does not change what a model scores: everything else must be right.
    if (this.clientProblems.some((p) => p.field !== "name")) {
      this.preview = null;
      this.previewError = "Fix the problems marked in the editor to see the preview.";
      return;
    }
    const current = this.#previewTurn.next();
    const id = this.saved?.id ?? null;
    this.previewing = true;
    try {
      const preview = await previewScoringModel(id, previewBody(modelBody(draft).value));
      if (!current()) return;
      this.preview = preview;
      this.previewError = null;
    } catch (err) {
      if (!current()) return;
      this.preview = null;
      this.previewError = errorMessage(err);
    } finally {
      if (current()) this.previewing = false;
    }
  }

  /** Follows a model's background rescore until it ends. */
  #watch(model: ScoringModelView): void {
    if (this.#stopped || model.rescore?.status !== "running" || this.#polls.has(model.id)) return;
    const timer = setTimeout(() => void this.#poll(model.id), pollMs);
    this.#polls.set(model.id, timer);
  }

  async #poll(id: string): Promise<void> {
    let model: ScoringModelView;
    try {
      model = await getScoringModel(id);
    } catch {
      this.#polls.delete(id);
      if (!this.#stopped) this.#polls.set(id, setTimeout(() => void this.#poll(id), pollMs * 3));
      return;
    }
    this.#polls.delete(id);
    if (this.#stopped) return;
    this.#replace(model);
    if (this.saved?.id === id) this.saved = model;
    if (model.rescore?.status === "running") return this.#watch(model);
    if (model.rescore?.status === "failed") this.#notices.toast(`Rescoring with “${model.name}” failed: ${model.rescore.error ?? "unknown error"}`);
    else this.#notices.toast(`Rescoring with “${model.name}” finished: ${model.rescore?.processed ?? 0} leads`, "info");
    if (this.saved?.id === id) void this.loadInsights(id);
  }
}
