/**
 * Pure helpers of the lead drawer: labels, history lines, stage field inputs, and why a
 * lead cannot be converted yet. No DOM, no Svelte.
 */
import type { BoardStage, LeadCard, LeadHistoryEntry } from "../../../shared/board.ts";
import {
  conversionMessage,
  leadFlags,
  missingForConversion,
  requirementLabels,
  type LeadFlag,
  type RequirementKey,
  type StageField,
} from "../../../shared/domain/stages.ts";

export const flagLabels: Record<LeadFlag, string> = {
  ready_for_teleprospecting: "Ready for teleprospecting",
  teleprospecting_accepted: "Teleprospecting accepted",
  sales_ready: "Sales ready",
  sales_accepted: "Sales accepted",
};

export const flagValue = (card: LeadCard, flag: LeadFlag): boolean =>
  ({
    ready_for_teleprospecting: card.readyForTeleprospecting,
    teleprospecting_accepted: card.teleprospectingAccepted,
    sales_ready: card.salesReady,
    sales_accepted: card.salesAccepted,
  })[flag];

export { leadFlags };

export const reasonLabels: Record<LeadHistoryEntry["reason"], string> = {
  manual: "by hand",
  override: "gate overridden",
  gate: "gate",
  score: "score",
  automation: "automation",
};

/** Names for ids the drawer knows (the signed-in user, the lead's contact and account). */
export type NameOf = (value: unknown) => string | undefined;

const fieldLabels: Record<string, string> = {
  contactId: "Contact",
  accountId: "Account",
  topic: "Topic",
  campaign: "Campaign",
  ownerId: "Owner",
};

function show(value: unknown, nameOf?: NameOf): string {
  const named = nameOf?.(value);
  if (named) return named;
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string" || typeof value === "number") return String(value);
  return JSON.stringify(value);
}

export interface HistoryLine {
  what: string;
  from: string;
  to: string;
  why: string;
}

/** One history entry as "what changed, from → to, why" with stage keys shown as names. */
export function historyLine(entry: LeadHistoryEntry, stageName: (key: string) => string, nameOf?: NameOf): HistoryLine {
  const why = [reasonLabels[entry.reason], entry.note].filter(Boolean).join(": ");
  switch (entry.kind) {
    case "stage":
      return {
        what: "Stage",
        from: entry.fromStage ? stageName(entry.fromStage) : "—",
        to: entry.toStage ? stageName(entry.toStage) : "—",
        why,
      };
    case "flag": {
      const label = entry.field && entry.field in flagLabels ? flagLabels[entry.field as LeadFlag] : (entry.field ?? "Flag");
      return { what: label, from: show(entry.fromValue), to: show(entry.toValue), why };
    }
    case "assignment":
      return { what: "Owner", from: show(entry.fromValue, nameOf), to: show(entry.toValue, nameOf), why };
    case "process":
      return { what: "Process", from: show(entry.fromValue, nameOf), to: show(entry.toValue, nameOf), why };
    case "status":
      return { what: "Status", from: show(entry.fromValue), to: show(entry.toValue), why };
    case "field": {
      const what = entry.field ? (fieldLabels[entry.field] ?? entry.field) : "Field";
      return { what, from: show(entry.fromValue, nameOf), to: show(entry.toValue, nameOf), why };
    }
  }
}

/** What an input shows for a stored stage value. */
export type FieldDraft = string | boolean;

export function fieldDraft(field: StageField, value: unknown): FieldDraft {
  if (field.type === "checkbox") return value === true;
  if (value === null || value === undefined) return "";
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

/** The value to send for an input, or an error message. Empty text clears the field (null). */
export function parseFieldDraft(field: StageField, draft: FieldDraft): { value: unknown } | { error: string } {
  if (field.type === "checkbox") return { value: draft === true };
  const text = typeof draft === "string" ? draft.trim() : "";
  if (text === "") return { value: null };
  if (field.type === "number") {
    const n = Number(text);
    return Number.isFinite(n) ? { value: n } : { error: "must be a number" };
  }
  if (field.type === "choice" && !(field.options ?? []).includes(text)) {
    return { error: `must be one of: ${(field.options ?? []).join(", ")}` };
  }
  return { value: text };
}

/** Why the lead cannot be converted yet, or null when it can. */
export function conversionBlock(card: LeadCard, requirements: readonly RequirementKey[]): string | null {
  const missing = missingForConversion(card, [...requirements]);
  return missing.length ? conversionMessage(missing) : null;
}

/** The stage a lead sits in, if the process has it. */
export function stageOf(stages: readonly BoardStage[], key: string): BoardStage | undefined {
  return stages.find((s) => s.key === key);
}

export const requirementText = (key: RequirementKey): string => requirementLabels[key];

/** "3 Mar 2025, 14:05" in the browser's locale. */
export function formatWhen(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A breakdown item of a score, as "label: points" when it has that shape. */
export function breakdownText(item: unknown): string {
  if (typeof item === "object" && item !== null) {
    const r = item as Record<string, unknown>;
    const label = typeof r.label === "string" ? r.label : typeof r.kind === "string" ? r.kind : null;
    const points = typeof r.points === "number" ? r.points : null;
    if (label !== null) return points === null ? label : `${label}: ${points > 0 ? "+" : ""}${points}`;
  }
  return show(item);
}

/** Why a closed lead was closed: its own reason, else the note of its last status change. */
export function closingNote(reason: string | null | undefined, history: readonly LeadHistoryEntry[]): string | null {
  if (reason) return reason;
  const last = [...history].reverse().find((h) => h.kind === "status");
  return last?.note ?? null;
}
