/**
 * Matching strategies: two records match when every field of the strategy is equal,
 * compared after normalisation (email trimmed and case-insensitive; other text trimmed,
 * case-insensitive, inner whitespace collapsed). Pure: the server claims the key in the
 * database, so two identical submissions at the same moment converge on one record.
 */

export const contactMatchFields = ["email", "firstName", "lastName", "phone", "company", "country", "jobTitle"] as const;
export const leadMatchFields = [
  "email",
  "formId",
  "eventId",
  "linkedinFormId",
  "campaign",
  "topic",
  "company",
  "firstName",
  "lastName",
] as const;

export type ContactMatchField = (typeof contactMatchFields)[number];
export type LeadMatchField = (typeof leadMatchFields)[number];
export type MatchField = ContactMatchField | LeadMatchField;
export type MatchEntity = "contact" | "lead";

export const matchFieldsFor = (entity: MatchEntity): readonly MatchField[] =>
  entity === "contact" ? contactMatchFields : leadMatchFields;

/** The values a record or submission offers for matching; absent or blank ones match nothing. */
export type MatchValues = Partial<Record<MatchField, string | null | undefined>>;

export function normalizeMatchValue(field: MatchField, value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const trimmed = value.trim();
  if (trimmed === "") return null;
  if (field === "email") return trimmed.toLowerCase();
  if (field === "formId" || field === "eventId" || field === "linkedinFormId") return trimmed.toLowerCase();
  if (field === "phone") return trimmed.replace(/[^\d+]/g, "");
  return trimmed.replace(/\s+/g, " ").toLowerCase();
}

/**
 * The key two matching records share, or null when a field is blank: a strategy that
 * cannot compare every field matches nothing (and never claims a key).
 */
export function matchKey(fields: readonly MatchField[], values: MatchValues): string | null {
  const parts: string[] = [];
  for (const field of fields) {
    const normalized = normalizeMatchValue(field, values[field]);
    if (normalized === null) return null;
    parts.push(normalized);
  }
  return JSON.stringify(parts);
}

/**
 * Merges an incoming submission into a known record: non-empty incoming values win,
 * nothing is blanked. Returns only the fields that change.
 */
export function mergeIncoming<T extends Record<string, unknown>>(current: T, incoming: Partial<T>): Partial<T> {
  const changes: Partial<T> = {};
  for (const [key, value] of Object.entries(incoming) as Array<[keyof T, T[keyof T] | undefined]>) {
    if (value === undefined || value === null) continue;
    if (typeof value === "string" && value.trim() === "") continue;
    const next = (typeof value === "string" ? value.trim() : value) as T[keyof T];
    if (current[key] !== next) changes[key] = next;
  }
  return changes;
}
