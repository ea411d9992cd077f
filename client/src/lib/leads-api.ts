/**
 * Contacts, accounts, leads and the lead lifecycle over HTTP. Every lifecycle command
 * carries the version the user saw; the server answers the updated card.
 */
import type { LeadCard } from "../../../shared/board.ts";
import type { LeadFlag } from "../../../shared/domain/stages.ts";
import type { AccountInput, ContactInput, LeadInput } from "../../../shared/schemas/records.ts";
import type { Opportunity } from "../../../shared/schemas/lifecycle.ts";
import type { ProcessView } from "../../../shared/schemas/processes.ts";
import { apiGet, apiPatch, apiPost, queryString } from "./api.ts";
import type { AccountRow, ContactRow, LeadView } from "./types.ts";

const lead = (id: string, rest = "") => `/api/leads/${encodeURIComponent(id)}${rest}`;

export const searchContacts = (q: string, limit = 8, offset = 0) =>
  apiGet<ContactRow[]>(`/api/contacts${queryString({ q: q.trim(), limit, offset })}`);
export const searchAccounts = (q: string, limit = 8, offset = 0) =>
  apiGet<AccountRow[]>(`/api/accounts${queryString({ q: q.trim(), limit, offset })}`);
export const getContact = (id: string) => apiGet<ContactRow>(`/api/contacts/${encodeURIComponent(id)}`);
export const getAccount = (id: string) => apiGet<AccountRow>(`/api/accounts/${encodeURIComponent(id)}`);
export const createContact = (input: ContactInput) => apiPost<ContactRow>("/api/contacts", input);
export const createAccount = (input: AccountInput) => apiPost<AccountRow>("/api/accounts", input);

export const createLead = (input: LeadInput) => apiPost<LeadCard>("/api/leads", input);
export const getLead = (id: string) => apiGet<LeadView>(lead(id));

export interface LeadQuery {
  q?: string;
  stage?: string;
  status?: "open" | "converted" | "disqualified";
  processId?: string;
  contactId?: string;
  accountId?: string;
  limit?: number;
}
export const listLeads = (query: LeadQuery) => apiGet<LeadCard[]>(`/api/leads${queryString({ ...query })}`);

export interface LeadPatchInput {
  topic?: string;
  contactId?: string | null;
  accountId?: string | null;
  campaign?: string | null;
}
export const patchLead = (id: string, expectedVersion: number, patch: LeadPatchInput) =>
  apiPatch<LeadCard>(lead(id), { expectedVersion, ...patch });

export const setFlag = (id: string, expectedVersion: number, flag: LeadFlag, value: boolean) =>
  apiPost<LeadCard>(lead(id, "/flags"), { flag, value, expectedVersion });
export const assignLead = (id: string, expectedVersion: number, ownerId: string | null) =>
  apiPost<LeadCard>(lead(id, "/assign"), { ownerId, expectedVersion });
export const saveStageFields = (id: string, expectedVersion: number, stage: string, values: Record<string, unknown>) =>
  apiPost<LeadCard>(lead(id, "/stage-fields"), { stage, values, expectedVersion });
export const convertLead = (id: string, expectedVersion: number, name?: string, estimatedValue?: number | null) =>
  apiPost<{ lead: LeadCard; opportunity: Opportunity }>(lead(id, "/convert"), {
    expectedVersion,
    ...(name ? { name } : {}),
    ...(estimatedValue !== undefined ? { estimatedValue } : {}),
  });
export const disqualifyLead = (id: string, expectedVersion: number, reason: string) =>
  apiPost<LeadCard>(lead(id, "/disqualify"), { reason, expectedVersion });
export const reopenLead = (id: string, expectedVersion: number) =>
  apiPost<LeadCard>(lead(id, "/reopen"), { expectedVersion });
export const switchProcess = (id: string, expectedVersion: number, processId: string, toStage?: string) =>
  apiPost<LeadCard>(lead(id, "/process"), { processId, expectedVersion, ...(toStage ? { toStage } : {}) });

export const listProcesses = () => apiGet<ProcessView[]>("/api/processes");
export const getProcess = (id: string) => apiGet<ProcessView>(`/api/processes/${encodeURIComponent(id)}`);
