/**
 * Access from outside a person's session, and its record: API keys (`/api/api-keys`),
 * wall-display tokens (`/api/display-tokens`) and the audit log (`GET /api/audit`).
 * A key or token is in the creating answer only; the lists never hold it.
 */
import type { ApiKeyInput, ApiKeyView } from "../../../shared/schemas/api-keys.ts";
import type { AuditAction, AuditPage } from "../../../shared/schemas/audit.ts";
import type { DisplayTokenCreated, DisplayTokenInput, DisplayTokenView } from "../../../shared/schemas/display-tokens.ts";
import { apiDelete, apiGet, apiPost, queryString } from "./api.ts";
import { listOf } from "./admin-users-api.ts";

export type { ApiKeyView, DisplayTokenView };

const at = (base: string, id: string) => `${base}/${encodeURIComponent(id)}`;

export const listApiKeys = async (): Promise<ApiKeyView[]> => listOf<ApiKeyView>(await apiGet<unknown>("/api/api-keys"), "apiKeys");
export const createApiKey = (input: ApiKeyInput) => apiPost<{ key: string; apiKey: ApiKeyView }>("/api/api-keys", input);
export const revokeApiKey = (id: string): Promise<void> => apiDelete(at("/api/api-keys", id));

export const listDisplayTokens = async (): Promise<DisplayTokenView[]> =>
  listOf<DisplayTokenView>(await apiGet<unknown>("/api/display-tokens"), "displayTokens");
export const createDisplayToken = (input: DisplayTokenInput) => apiPost<DisplayTokenCreated>("/api/display-tokens", input);
export const revokeDisplayToken = (id: string): Promise<void> => apiDelete(at("/api/display-tokens", id));

/** Newest first; `before` is the previous page's `nextBefore`. */
export const listAudit = (query: { action?: AuditAction; before?: string; limit?: number }) =>
  apiGet<AuditPage>(`/api/audit${queryString({ ...query })}`);
