/**
 * The admin pages' endpoints: forms, events, LinkedIn, matching strategies, processes,
 * segments and imports. Request bodies follow the shared zod schemas.
 */
import type { ImportKind } from "../../../shared/domain/csv-columns.ts";
import type { ImportView } from "../../../shared/schemas/imports.ts";
import type { EventInput, FormInput, StrategyInput } from "../../../shared/schemas/intake.ts";
import type { ProcessCreateInput, ProcessUpdateInput, ProcessView } from "../../../shared/schemas/processes.ts";
import type { SegmentQueryInput } from "../../../shared/schemas/segments.ts";
import { apiDelete, apiGet, apiPatch, apiPost, apiText, apiUpload, queryString } from "./api.ts";
import type { EventRow, FormRow, IntakeAnswer, LinkedinFormRow, SegmentPreview, Strategy, SyncReport } from "./types.ts";

const at = (base: string, id: string, rest = "") => `${base}/${encodeURIComponent(id)}${rest}`;

export const listForms = () => apiGet<FormRow[]>("/api/forms");
export const createForm = (input: FormInput) => apiPost<FormRow>("/api/forms", input);
export const formSnippet = (id: string) => apiText(at("/api/forms", id, "/snippet"));

export const listEvents = () => apiGet<EventRow[]>("/api/events");
export const createEvent = (input: EventInput) => apiPost<EventRow>("/api/events", input);
export const checkIn = (eventId: string, input: { email: string; firstName?: string; lastName?: string; company?: string }) =>
  apiPost<IntakeAnswer>(at("/api/events", eventId, "/check-ins"), input);

export const listLinkedinForms = () => apiGet<LinkedinFormRow[]>("/api/integrations/linkedin/forms");
export const saveLinkedinForm = (definition: unknown, strategies: { contactStrategyId?: string; leadStrategyId?: string }) =>
  apiPost<LinkedinFormRow>(`/api/integrations/linkedin/forms${queryString({ ...strategies })}`, definition);
export const syncLinkedinResponses = (responses: unknown) =>
  apiPost<SyncReport>("/api/integrations/linkedin/lead-responses", responses);

export const listStrategies = () => apiGet<Strategy[]>("/api/matching-strategies");
export const createStrategy = (input: StrategyInput) => apiPost<Strategy>("/api/matching-strategies", input);

export const createProcess = (input: ProcessCreateInput) => apiPost<ProcessView>("/api/processes", input);
export const updateProcess = (id: string, input: ProcessUpdateInput) => apiPatch<ProcessView>(at("/api/processes", id), input);

export interface SegmentView {
  id: string;
  name: string;
  query: SegmentQueryInput;
  count?: number | null;
  updatedAt?: string;
}
export const listSegments = () => apiGet<SegmentView[]>("/api/segments");
export const createSegment = (name: string, query: SegmentQueryInput) => apiPost<SegmentView>("/api/segments", { name, query });
export const updateSegment = (id: string, name: string, query: SegmentQueryInput) =>
  apiPatch<SegmentView>(at("/api/segments", id), { name, query });
export const deleteSegment = (id: string) => apiDelete(at("/api/segments", id));
export const previewSegment = (query: SegmentQueryInput) => apiPost<SegmentPreview>("/api/segments/preview", { query });

export const startImport = (file: Blob, kind: ImportKind, map?: Record<string, string>, fileName?: string) =>
  apiUpload<{ importId: string }>(
    `/api/imports${queryString({ kind, map: map && Object.keys(map).length ? JSON.stringify(map) : undefined, fileName })}`,
    file,
    "text/csv",
  );
export const getImport = (id: string) => apiGet<ImportView>(at("/api/imports", id));
