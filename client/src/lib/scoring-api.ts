/**
 * Scoring models, previews, insights and score explanations over HTTP
 * (`/api/scoring-models`, `/api/leads/:id/scores`). Bodies follow shared/schemas/scoring.ts.
 */
import type {
  ModelInsights,
  ScoreExplanation,
  ScorePreview,
  ScoringModelInput,
  ScoringModelPatch,
  ScoringModelView,
  ScoringPreviewInput,
} from "../../../shared/schemas/scoring.ts";
import { apiGet, apiPatch, apiPost } from "./api.ts";

const models = "/api/scoring-models";
const model = (id: string, rest = "") => `${models}/${encodeURIComponent(id)}${rest}`;

export const listScoringModels = async (): Promise<ScoringModelView[]> =>
  (await apiGet<{ models: ScoringModelView[] }>(models)).models;

export const getScoringModel = async (id: string): Promise<ScoringModelView> =>
  (await apiGet<{ model: ScoringModelView }>(model(id))).model;

export const createScoringModel = async (input: ScoringModelInput): Promise<ScoringModelView> =>
  (await apiPost<{ model: ScoringModelView }>(models, input)).model;

export const updateScoringModel = async (id: string, patch: ScoringModelPatch): Promise<ScoringModelView> =>
  (await apiPatch<{ model: ScoringModelView }>(model(id), patch)).model;

/** A what-if of an unsaved model (no id) or of an edit of a stored one; changes nothing. */
export const previewScoringModel = async (id: string | null, input: ScoringPreviewInput): Promise<ScorePreview> =>
  (await apiPost<{ preview: ScorePreview }>(id ? model(id, "/preview") : `${models}/preview`, input)).preview;

export const scoringModelInsights = async (id: string): Promise<ModelInsights> =>
  (await apiGet<{ insights: ModelInsights }>(model(id, "/insights"))).insights;

export const leadScores = async (leadId: string): Promise<ScoreExplanation[]> =>
  (await apiGet<{ scores: ScoreExplanation[] }>(`/api/leads/${encodeURIComponent(leadId)}/scores`)).scores;
