/**
 * The shapes the HTTP API answers with, as far as the client reads them. Shared types
 * are used where the project has them; these cover server rows shared/ does not name.
 */
import type { LeadCard, LeadDetail } from "../../../shared/board.ts";
import type { MatchEntity, MatchField } from "../../../shared/domain/matching.ts";

export interface ContactRow {
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  jobTitle: string | null;
  phone: string | null;
  country: string | null;
  accountId: string | null;
  accountName?: string | null;
  source?: string;
  updatedAt?: string;
}

export interface AccountRow {
  id: string;
  name: string;
  industry: string | null;
  employeeCount: number | null;
  annualRevenue: number | null;
  country: string | null;
  websiteDomain: string | null;
}

/** A lead as the drawer reads it: the detail with its marketing context and stage data. */
export type LeadView = LeadDetail;

export interface FormRow {
  id: string;
  name: string;
  campaign: string | null;
  honeypotField: string;
  allowedOrigins: string[];
  contactStrategyId: string | null;
  leadStrategyId: string | null;
  createdAt: string;
}

export interface EventRow {
  id: string;
  name: string;
  startsAt: string;
  campaign: string | null;
  contactStrategyId: string | null;
  leadStrategyId: string | null;
}

export interface LinkedinFormRow {
  id: string;
  name: string | null;
  definition: unknown;
  contactStrategyId: string | null;
  leadStrategyId: string | null;
  updatedAt?: string;
}

export interface Strategy {
  id: string;
  name: string;
  entity: MatchEntity;
  fields: MatchField[];
  isDefault: boolean;
}

export interface SyncReport {
  created: number;
  updated: number;
  skipped: number;
  errors: Array<{ index: number; error: string }>;
}

/** What a check-in or a form submission answers (the body of SubmissionAnswer). */
export interface IntakeAnswer {
  leadId?: string;
  contactId?: string;
  created?: boolean;
  [key: string]: unknown;
}

export interface SegmentMember {
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  accountId: string | null;
  accountName: string | null;
}

export interface SegmentPreview {
  count: number;
  members: SegmentMember[];
}

/** "Ada Lovelace", else the email, else a placeholder. */
export function contactLabel(c: Pick<ContactRow, "firstName" | "lastName" | "email">): string {
  const name = [c.firstName, c.lastName].filter(Boolean).join(" ");
  return name || c.email || "Unnamed contact";
}

/** A contact or account picked in a search: enough to show and to link. */
export interface Picked {
  id: string;
  label: string;
  detail: string;
}

/** Tells the board which changes are the user's own (see OwnChangeLog). */
export interface OwnChanges {
  begin(leadId: string): void;
  end(leadId: string, card?: LeadCard): void;
}

/** Runs a lead command with the version the drawer loaded; true when it went through. */
export type RunCommand = (command: (version: number) => Promise<unknown>, success?: string) => Promise<boolean>;
