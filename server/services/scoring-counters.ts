import {
  dayMs,
  interactionCounts,
  modelApplies,
  timesToKeep,
  type InteractionType,
} from "../../shared/domain/scoring.ts";
import type { Tx } from "../db/client.ts";
import * as scoring from "../repositories/scoring.ts";

/**
 * Keeping the incremental scoring state right as things change: interactions add to the
 * counters of exactly the leads they affect; a new or relinked lead has its counters rebuilt
 * from the interactions table. Both schedule the leads for evaluation by the score worker.
 */

export interface InteractionRecord {
  type: InteractionType;
  contactId: string;
  occurredAt: Date;
  formId?: string | null;
  eventId?: string | null;
  campaign?: string | null;
  url?: string | null;
}

/**
 * Takes the shared scope locks of these contacts and returns their accounts; the caller then
 * reads the open leads their interactions reach. Reading after the lock matters: a rebuild (a new or relinked lead)
 * holds its scope exclusively until it commits, so every lead is either visible here, or
 * rebuilt later from an interactions table that includes this batch. Recording takes no
 * lock on lead rows (counters and the queue have no foreign key to leads), so it never waits
 * for someone editing a lead while it holds a scope. Repeats if a contact moved to another
 * account meanwhile.
 */
async function lockForRecording(tx: Tx, contactIds: string[]): Promise<Map<string, string | null>> {
  const locked = new Set<string>();
  let accountOf = await scoring.contactAccounts(tx, contactIds);
  for (;;) {
    const keys = contactIds.map((id) => scoring.scopeKey(id, accountOf.get(id) ?? null)).filter((k) => !locked.has(k));
    await scoring.lockScopes(tx, keys, "shared");
    for (const key of keys) locked.add(key);
    const now = await scoring.contactAccounts(tx, contactIds);
    if (contactIds.every((id) => now.get(id) === accountOf.get(id))) return now;
    accountOf = now;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Records interactions and adds them to the counters of every open lead they feed (the
 * contact's own leads for contact models, its account's leads for account models). Returns
 * the leads scheduled for evaluation.
 */
export async function recordInteractions(tx: Tx, given: InteractionRecord[], now: Date): Promise<{ leadIds: string[] }> {
  if (given.length === 0) return { leadIds: [] };
  // Nothing happens in the future: a time ahead of ours (a channel's clock) is read as now.
  const items = given.map((i) => (i.occurredAt.getTime() > now.getTime() ? { ...i, occurredAt: now } : i));
  const contactIds = [...new Set(items.map((i) => i.contactId))].sort();
  const accountOf = await lockForRecording(tx, contactIds);
  // Independent statements, in one round trip.
  const [, models] = await Promise.all([
    scoring.insertInteractions(
      tx,
      items.map((i) => ({
        type: i.type,
        contactId: i.contactId,
        occurredAt: i.occurredAt,
        formId: i.formId ?? null,
        eventId: i.eventId ?? null,
        campaign: i.campaign ?? null,
        url: i.url ?? null,
        createdAt: now,
      })),
    ),
    scoring.liveModels(tx),
  ]);
  if (models.length === 0) return { leadIds: [] };
  // Account leads matter only to account models: without one, a contact's own leads are all it reaches.
  const accountIds = models.some((m) => m.target === "account")
    ? [...new Set([...accountOf.values()].filter((a): a is string => a !== null))]
    : [];
  const reached = await scoring.leadsReachedBy(tx, contactIds, accountIds);
  const byContact = new Map<string, scoring.ScoringLead[]>();
  const byAccount = new Map<string, scoring.ScoringLead[]>();
  for (const lead of reached) {
    if (lead.contactId) push(byContact, lead.contactId, lead);
    if (lead.accountId) push(byAccount, lead.accountId, lead);
  }
  const deltas = new Map<string, scoring.CounterDelta>();
  for (const item of items) {
    const account = accountOf.get(item.contactId) ?? null;
    const context = { formId: item.formId ?? null, eventId: item.eventId ?? null, campaign: item.campaign ?? null, type: item.type };
    for (const model of models) {
      const candidates = model.target === "contact" ? (byContact.get(item.contactId) ?? []) : account ? (byAccount.get(account) ?? []) : [];
      for (const lead of candidates) {
        if (!modelApplies(model.target, lead) || scoring.awaitsRescore(model, lead.id)) continue;
        model.conditions.forEach((condition, index) => {
          if (condition.kind !== "behavior" || !interactionCounts(condition, lead, context)) return;
          const key = `${lead.id}|${model.id}|${index}|${item.contactId}`;
          const at = item.occurredAt.toISOString();
          const delta =
            deltas.get(key) ??
            ({
              leadId: lead.id,
              modelId: model.id,
              conditionIndex: index,
              contactId: item.contactId,
              count: 0,
              times: condition.withinDays !== undefined ? [] : null,
              windowDays: condition.withinDays ?? null,
              keepLatest: timesToKeep(condition),
              lastAt: at,
            } satisfies scoring.CounterDelta);
          delta.count++;
          if (delta.lastAt < at) delta.lastAt = at;
          if (delta.times && condition.withinDays !== undefined && item.occurredAt.getTime() + condition.withinDays * dayMs > now.getTime()) {
            delta.times.push(at);
          }
          deltas.set(key, delta);
        });
      }
    }
  }
  await scoring.addToCounters(tx, [...deltas.values()], now);
  const leadIds = [...new Set([...deltas.values()].map((d) => d.leadId))];
  await scoring.scheduleScoring(tx, leadIds, now);
  return { leadIds };
}

/**
 * Rebuilds the counters of these leads under every live model from the interactions table
 * and schedules them: for a new lead, a lead linked to another contact or account, a reopened
 * lead, or a contact that moved to another account (`extraScopes`: the accounts it left).
 */
export async function rebuildLeads(tx: Tx, leadIds: readonly string[], now: Date, extraScopes: readonly string[] = []): Promise<void> {
  if (leadIds.length === 0) return;
  // Lead rows before scope locks, as recording takes them (nothing to wait for when the caller locked the lead).
  await scoring.lockLeadsKeyShare(tx, leadIds);
  const leads = await scoring.scoringLeads(tx, leadIds);
  await scoring.lockScopes(tx, [...leads.flatMap((l) => scoring.scopeKeysOfLead(l)), ...extraScopes.map((a) => `score:${a}`)], "exclusive");
  // Links may have changed while we waited for the locks: read them again under the locks.
  const current = await scoring.scoringLeads(tx, leadIds);
  const models = await scoring.liveModels(tx);
  for (const model of models) {
    const ids = current.filter((l) => !scoring.awaitsRescore(model, l.id)).map((l) => l.id);
    const counted = current.filter((l) => l.active && modelApplies(model.target, l) && !scoring.awaitsRescore(model, l.id)).map((l) => l.id);
    await scoring.rebuildCounters(tx, model, ids, counted, now);
  }
  await scoring.scheduleScoring(tx, current.map((l) => l.id), now);
}

/** A contact's or account's fields changed: its leads are evaluated again (counters stay). */
export async function fieldsChanged(tx: Tx, ref: { contactIds?: string[]; accountIds?: string[] }, now: Date): Promise<void> {
  await scoring.scheduleScoring(tx, await scoring.leadIdsFor(tx, ref), now);
}

/** A contact moved from one account to another: its leads and both accounts' leads are rebuilt. */
export async function contactRelinked(tx: Tx, contactId: string, accountIds: Array<string | null>, now: Date): Promise<void> {
  const accounts = accountIds.filter((a): a is string => a !== null);
  const leadIds = await scoring.leadIdsFor(tx, { contactIds: [contactId], accountIds: accounts });
  await rebuildLeads(tx, leadIds, now, [...accounts, contactId]);
}
