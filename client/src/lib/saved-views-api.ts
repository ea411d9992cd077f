/**
 * Saved views over HTTP: `GET/POST /api/saved-views`, `PATCH/DELETE /api/saved-views/:id`.
 * Failures are ApiErrors with the contract's code (e.g. CONFLICT for a name already used).
 */
import type { SavedView, SavedViewInput, SavedViewPatch } from "../../../shared/schemas/saved-views.ts";
import { apiDelete, apiGet, apiPatch, apiPost } from "./api.ts";

export type { SavedView, SavedViewInput, SavedViewPatch };

const base = "/api/saved-views";
const one = (id: string) => `${base}/${encodeURIComponent(id)}`;

/** This user's views and everyone's shared ones. */
export const listSavedViews = (): Promise<SavedView[]> => apiGet<SavedView[]>(base);

export const createSavedView = (input: SavedViewInput): Promise<SavedView> => apiPost<SavedView>(base, input);

export const updateSavedView = (id: string, patch: SavedViewPatch): Promise<SavedView> => apiPatch<SavedView>(one(id), patch);

export const deleteSavedView = (id: string): Promise<void> => apiDelete(one(id));
