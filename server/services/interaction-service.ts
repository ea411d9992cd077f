import { asc, sql } from "drizzle-orm";
import { contacts, forms, marketingEvents } from "../../drizzle/schema.ts";
import { normalizeEmail } from "../repositories/contacts.ts";
import { issuesToDetails } from "../../shared/schemas/common.ts";
import { interactionInput, type InteractionInput } from "../../shared/schemas/scoring.ts";
import { textList, uuidList, type Db } from "../db/client.ts";
import type { Actor } from "./actor.ts";
import { requirePermission } from "./actor.ts";
import { recordInteractions, type InteractionRecord } from "./scoring-counters.ts";

export interface IngestResult {
  accepted: number;
  rejected: Array<{ index: number; error: { code: "INVALID_INPUT" | "NOT_FOUND"; message: string; details?: Array<{ field: string; message: string }> } }>;
}

/** How far in the future an interaction's time may be (clocks differ); later is a mistake. */
const clockSkewMs = 5 * 60_000;

/**
 * `POST /api/interactions`: a batch from an integration (an email tool, a web tracker).
 * Each item is checked on its own, so one bad item never rejects the rest; the good ones are
 * recorded and scored in one transaction.
 */
export class InteractionService {
  constructor(
    private readonly db: Db,
    private readonly onRecorded: () => void,
  ) {}

  async ingest(actor: Actor, items: unknown[], now: Date): Promise<IngestResult> {
    requirePermission(actor, "interaction.ingest");
    const rejected: IngestResult["rejected"] = [];
    const valid: Array<{ index: number; item: InteractionInput }> = [];
    items.forEach((raw, index) => {
      const parsed = interactionInput.safeParse(raw);
      if (!parsed.success) {
        rejected.push({ index, error: { code: "INVALID_INPUT", message: "The interaction is not valid", details: issuesToDetails(parsed.error) } });
        return;
      }
      if (parsed.data.occurredAt && Date.parse(parsed.data.occurredAt) > now.getTime() + clockSkewMs) {
        rejected.push({ index, error: { code: "INVALID_INPUT", message: "occurredAt is in the future", details: [{ field: "occurredAt", message: "must not be in the future" }] } });
        return;
      }
      valid.push({ index, item: canonicalIds(parsed.data) });
    });
    const [byEmail, known, knownForms, knownEvents] = await Promise.all([
      this.contactsByEmail(valid.flatMap((v) => (v.item.email ? [normalizeEmail(v.item.email)] : []))),
      this.existing(contacts, valid.flatMap((v) => (v.item.contactId ? [v.item.contactId] : []))),
      this.existing(forms, valid.flatMap((v) => (v.item.formId ? [v.item.formId] : []))),
      this.existing(marketingEvents, valid.flatMap((v) => (v.item.eventId ? [v.item.eventId] : []))),
    ]);
    const records: InteractionRecord[] = [];
    for (const { index, item } of valid) {
      const contactId = item.contactId ?? byEmail.get(normalizeEmail(item.email!));
      const missing =
        item.contactId && !known.has(item.contactId)
          ? { field: "contactId", message: "no such contact" }
          : !contactId
            ? { field: "email", message: "no contact has this email" }
            : item.formId && !knownForms.has(item.formId)
              ? { field: "formId", message: "no such form" }
              : item.eventId && !knownEvents.has(item.eventId)
                ? { field: "eventId", message: "no such event" }
                : null;
      if (missing || !contactId) {
        const details = missing ? [missing] : [];
        rejected.push({ index, error: { code: "NOT_FOUND", message: `Unknown ${details[0]?.field ?? "contact"}: ${details[0]?.message ?? ""}`, details } });
        continue;
      }
      records.push({
        type: item.type,
        contactId,
        // Within the allowed skew a time ahead of ours is our clock being behind: it happened now.
        occurredAt: item.occurredAt ? new Date(Math.min(Date.parse(item.occurredAt), now.getTime())) : now,
        formId: item.formId ?? null,
        eventId: item.eventId ?? null,
        campaign: item.campaign ?? null,
        url: item.url ?? null,
      });
    }
    if (records.length > 0) {
      await this.db.transaction((tx) => recordInteractions(tx, records, now));
      this.onRecorded();
    }
    rejected.sort((a, b) => a.index - b.index);
    return { accepted: records.length, rejected };
  }

  private async contactsByEmail(emails: string[]): Promise<Map<string, string>> {
    if (emails.length === 0) return new Map();
    const rows = await this.db
      .select({ id: contacts.id, email: contacts.emailNormalized })
      .from(contacts)
      .where(sql`${contacts.emailNormalized} = any(${textList([...new Set(emails)])})`)
      .orderBy(asc(contacts.createdAt), asc(contacts.id));
    // Several contacts may share an email under a strategy that does not match on it: the oldest wins, as in matching.
    const map = new Map<string, string>();
    for (const row of rows) if (row.email && !map.has(row.email)) map.set(row.email, row.id);
    return map;
  }

  private async existing(table: typeof contacts | typeof forms | typeof marketingEvents, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db
      .select({ id: table.id })
      .from(table)
      .where(sql`${table.id} = any(${uuidList([...new Set(ids)])})`);
    return new Set(rows.map((r) => r.id));
  }
}

/**
 * Ids as PostgreSQL prints them (lowercase): a uuid is accepted in any case, but counting
 * matches the contact, form and event ids against the leads' own, and the scope lock is keyed
 * by the id's text, so an uppercase id would be recorded and never counted.
 */
function canonicalIds(item: InteractionInput): InteractionInput {
  return {
    ...item,
    ...(item.contactId ? { contactId: item.contactId.toLowerCase() } : {}),
    ...(item.formId ? { formId: item.formId.toLowerCase() } : {}),
    ...(item.eventId ? { eventId: item.eventId.toLowerCase() } : {}),
  };
}

export function batchItems(body: { interactions: unknown[] } | unknown[]): unknown[] {
  return Array.isArray(body) ? body : body.interactions;
}

