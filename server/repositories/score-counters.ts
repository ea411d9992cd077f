import { and, asc, eq, sql } from "drizzle-orm";
import { interactions, leads, scoreCounters } from "../../drizzle/schema.ts";
import type { BehaviorCondition, BehaviorCounter, ModelTarget, ScoringCondition } from "../../shared/domain/scoring.ts";
import { dayMs, timesToKeep } from "../../shared/domain/scoring.ts";
import { anyId, queryRows, textList, uuidList, type Executor, type Tx } from "../db/client.ts";
import type { ScoringLead } from "./scoring.ts";

/** Incremental scoring state: scope locks, the counters interactions add to, and the interactions themselves. */

/**
 * One array parameter in PostgreSQL's array text form, cast by the server: a batch's column as
 * one bind, without JSON's per-row key names (half of what a 1,000-row batch sends). Every
 * element is quoted, so any text is safe; null is NULL.
 */
function arrayLiteral(values: ReadonlyArray<string | number | null>): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ",";
    if (v === null || v === undefined) out += "NULL";
    else if (typeof v === "number") out += String(v);
    else out += `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  }
  return `${out}}`;
}


// ---- scope locks ----

/**
 * Interactions of a contact feed the counters of its leads and of its account's leads.
 * Both are guarded by one advisory lock per scope (the contact's account, or the contact
 * when it has none): recording takes it shared, rebuilding takes it exclusive. So a
 * rebuild never misses an interaction that commits meanwhile, nor counts one twice.
 */
export function scopeKey(contactId: string, contactAccountId: string | null): string {
  return `score:${contactAccountId ?? contactId}`;
}

export function scopeKeysOfLead(lead: Pick<ScoringLead, "contactId" | "contactAccountId" | "accountId">): string[] {
  const keys: string[] = [];
  if (lead.contactId) keys.push(scopeKey(lead.contactId, lead.contactAccountId));
  if (lead.accountId) keys.push(`score:${lead.accountId}`);
  return keys;
}

/**
 * Holds these leads' rows against changes of their keys (FOR KEY SHARE), waiting for anyone
 * who locked them for an edit. Writing counters, scores or queue rows of a lead takes this lock
 * anyway (their foreign keys); taking it *before* the scope locks keeps one order everywhere:
 * a lead edit locks the lead, then (rebuilding) its scopes; recording must not hold a scope
 * while it waits for such a lead.
 */
export async function lockLeadsKeyShare(tx: Tx, leadIds: readonly string[]): Promise<void> {
  if (leadIds.length === 0) return;
  await tx
    .select({ id: leads.id })
    .from(leads)
    .where(anyId(leads.id, [...new Set(leadIds)]))
    .orderBy(asc(leads.id))
    .for("key share");
}

/** Scopes share 256 lock stripes (a power of two: the stripe is the hash's low bits): a batch of thousands of contacts takes at most 256 locks (PostgreSQL's lock table is small). */
const scopeStripes = 256;
/** The first key of the two-key advisory lock space, so stripes never collide with other advisory locks. */
const scopeLockClass = 20261122;

/**
 * Takes the scopes' stripe locks in one statement, in stripe order, so two transactions never
 * wait on each other in a cycle. Two scopes on one stripe only ever delay each other.
 */
export async function lockScopes(tx: Tx, keys: Iterable<string>, mode: "shared" | "exclusive"): Promise<void> {
  const unique = [...new Set(keys)];
  if (unique.length === 0) return;
  const fn = mode === "shared" ? sql`pg_advisory_xact_lock_shared` : sql`pg_advisory_xact_lock`;
  await tx.execute(
    sql`select ${fn}(${scopeLockClass}, s) from (
      select distinct (hashtext(k) & (${scopeStripes} - 1))::int as s from unnest(${textList(unique)}) as k order by s) as stripes`,
  );
}

// ---- counters ----

export interface CounterDelta {
  leadId: string;
  modelId: string;
  conditionIndex: number;
  contactId: string;
  count: number;
  /** Occurrence times to add (windowed conditions only). */
  times: string[] | null;
  windowDays: number | null;
  keepLatest: number | null;
  lastAt: string;
}

/**
 * Adds interactions to counters. Concurrent writers add, never overwrite; windowed times are
 * pruned to the window and to what the condition needs as they merge. Rows go in key order.
 */
export async function addToCounters(tx: Tx, deltas: CounterDelta[], now: Date): Promise<void> {
  if (deltas.length === 0) return;
  // Plain code-unit order (lowercase uuids sort as PostgreSQL sorts them); localeCompare is slow on thousands of rows.
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...deltas].sort(
    (a, b) => cmp(a.leadId, b.leadId) || cmp(a.modelId, b.modelId) || a.conditionIndex - b.conditionIndex || cmp(a.contactId, b.contactId),
  );
  const nowIso = now.toISOString();
  const column = <T extends string | number | null>(pick: (d: CounterDelta) => T) => arrayLiteral(sorted.map(pick));
  await tx.execute(sql`
    insert into score_counters (lead_id, model_id, condition_index, contact_id, count, times, window_days, keep_latest, last_at)
    select x.lead_id, x.model_id, x.condition_index, x.contact_id, x.count,
      case when x.window_days is null then null else array(
        select t from unnest(x.times::timestamptz[]) as t
        where t > ${nowIso}::timestamptz - make_interval(days => x.window_days)
        order by t desc limit coalesce(x.keep_latest, 2147483647)) end,
      x.window_days, x.keep_latest, x.last_at
    from unnest(${column((d) => d.leadId)}::uuid[], ${column((d) => d.modelId)}::uuid[], ${column((d) => d.conditionIndex)}::int[],
      ${column((d) => d.contactId)}::uuid[], ${column((d) => d.count)}::int[], ${column((d) => (d.times ? arrayLiteral(d.times) : null))}::text[],
      ${column((d) => d.windowDays)}::int[], ${column((d) => d.keepLatest)}::int[], ${column((d) => d.lastAt)}::timestamptz[])
      as x(lead_id, model_id, condition_index, contact_id, count, times, window_days, keep_latest, last_at)
    on conflict (lead_id, model_id, condition_index, contact_id) do update set
      count = score_counters.count + excluded.count,
      last_at = greatest(score_counters.last_at, excluded.last_at),
      times = case when excluded.window_days is null then null else array(
        select t from unnest(coalesce(score_counters.times, '{}') || coalesce(excluded.times, '{}')) as t
        where t > ${nowIso}::timestamptz - make_interval(days => excluded.window_days)
        order by t desc limit coalesce(excluded.keep_latest, 2147483647)) end,
      window_days = excluded.window_days,
      keep_latest = excluded.keep_latest`);
}

export async function deleteCounters(tx: Tx, leadIds: readonly string[], modelId?: string): Promise<void> {
  if (leadIds.length === 0) return;
  await tx
    .delete(scoreCounters)
    .where(and(anyId(scoreCounters.leadId, leadIds), modelId ? eq(scoreCounters.modelId, modelId) : undefined));
}

interface CountedRow {
  lead_id: string;
  contact_id: string;
  count: number;
  times: string[] | null;
  last_at: string;
}

/**
 * Counts one behaviour condition from the interactions table for a set of leads: the full
 * recomputation that publishing, previews and repairs use (live scoring adds instead).
 */
export async function countFromInteractions(
  db: Executor,
  target: ModelTarget,
  condition: BehaviorCondition,
  leadIds: readonly string[],
  now: Date,
): Promise<BehaviorCounterRow[]> {
  if (leadIds.length === 0) return [];
  const nowIso = now.toISOString();
  const keep = timesToKeep(condition);
  const scope =
    target === "contact"
      ? sql`c.id = l.contact_id`
      : sql`c.account_id = coalesce(l.account_id, (select lc.account_id from contacts lc where lc.id = l.contact_id))`;
  const context = condition.sameContext
    ? sql` and ((l.form_id is not null and i.form_id = l.form_id) or (l.event_id is not null and i.event_id = l.event_id) or (l.campaign is not null and i.campaign = l.campaign))`
    : sql``;
  const windowed = condition.withinDays !== undefined;
  const cutoff = windowed ? new Date(now.getTime() - condition.withinDays! * dayMs).toISOString() : nowIso;
  const times = windowed
    ? sql`to_json((array_agg(i.occurred_at order by i.occurred_at desc) filter (where i.occurred_at > ${cutoff}::timestamptz))[1:${keep ?? 2147483647}])`
    : sql`null::json`;
  const rows = await queryRows<CountedRow>(
    db,
    sql`select l.id as lead_id, c.id as contact_id, count(*)::int as count, ${times} as times, to_json(max(i.occurred_at)) as last_at
      from leads l
      join contacts c on ${scope}
      join interactions i on i.contact_id = c.id and i.type = ${condition.interaction}${context}
      where l.id = any(${uuidList(leadIds)})
      group by l.id, c.id`,
  );
  return rows.map((r) => ({
    leadId: r.lead_id,
    contactId: r.contact_id,
    count: Number(r.count),
    times: r.times ? r.times.filter((t) => t !== null).map((t) => new Date(t).toISOString()) : windowed ? [] : null,
    lastAt: new Date(r.last_at).toISOString(),
  }));
}

export interface BehaviorCounterRow extends BehaviorCounter {
  leadId: string;
}

/**
 * Replaces the counters of `leadIds` under one model with a full recomputation; only
 * `countedIds` (open leads the model applies to) get counters back.
 */
export async function rebuildCounters(
  tx: Tx,
  model: { id: string; target: ModelTarget; conditions: ScoringCondition[] },
  leadIds: readonly string[],
  countedIds: readonly string[],
  now: Date,
): Promise<void> {
  await deleteCounters(tx, leadIds, model.id);
  if (countedIds.length === 0) return;
  const deltas: CounterDelta[] = [];
  for (const [index, condition] of model.conditions.entries()) {
    if (condition.kind !== "behavior") continue;
    for (const row of await countFromInteractions(tx, model.target, condition, countedIds, now)) {
      deltas.push({
        leadId: row.leadId,
        modelId: model.id,
        conditionIndex: index,
        contactId: row.contactId,
        count: row.count,
        times: row.times,
        windowDays: condition.withinDays ?? null,
        keepLatest: timesToKeep(condition),
        lastAt: row.lastAt,
      });
    }
  }
  await addToCounters(tx, deltas, now);
}

/** Counters by lead, then model, then condition index. */
export async function loadCounters(db: Executor, leadIds: readonly string[]): Promise<Map<string, Map<string, Map<number, BehaviorCounter[]>>>> {
  const result = new Map<string, Map<string, Map<number, BehaviorCounter[]>>>();
  if (leadIds.length === 0) return result;
  // Times as JSON text: parsing thousands of timestamp arrays row by row costs more than the query.
  const rows = await queryRows<{ lead_id: string; model_id: string; condition_index: number; contact_id: string; count: number; times: string[] | null; last_at: string }>(
    db,
    sql`select lead_id, model_id, condition_index, contact_id, count,
          to_json(times) as times, to_json(last_at) as last_at
        from score_counters where ${anyId(sql`lead_id`, leadIds)}`,
  );
  for (const row of rows) {
    const byModel = result.get(row.lead_id) ?? new Map<string, Map<number, BehaviorCounter[]>>();
    result.set(row.lead_id, byModel);
    const byCondition = byModel.get(row.model_id) ?? new Map<number, BehaviorCounter[]>();
    byModel.set(row.model_id, byCondition);
    const list = byCondition.get(row.condition_index) ?? [];
    byCondition.set(row.condition_index, list);
    list.push({ contactId: row.contact_id, count: Number(row.count), times: row.times, lastAt: row.last_at });
  }
  return result;
}

// ---- interactions ----

export type NewInteraction = typeof interactions.$inferInsert;

/** One array parameter per column for the whole batch: thousands of rows cost nine binds, not nine per row. */
export async function insertInteractions(tx: Tx, rows: NewInteraction[]): Promise<void> {
  if (rows.length === 0) return;
  const iso = (value: Date | string | null | undefined) => (value instanceof Date ? value.toISOString() : (value ?? null));
  const column = <T extends string | number | null>(pick: (r: NewInteraction) => T) => arrayLiteral(rows.map(pick));
  await tx.execute(sql`
    insert into interactions (type, contact_id, occurred_at, form_id, event_id, campaign, url, created_at)
    select x.type::interaction_type, x.contact_id, x.occurred_at, x.form_id, x.event_id, x.campaign, x.url, coalesce(x.created_at, now())
    from unnest(${column((r) => r.type)}::text[], ${column((r) => r.contactId)}::uuid[], ${column((r) => iso(r.occurredAt))}::timestamptz[],
      ${column((r) => r.formId ?? null)}::uuid[], ${column((r) => r.eventId ?? null)}::uuid[], ${column((r) => r.campaign ?? null)}::text[],
      ${column((r) => r.url ?? null)}::text[], ${column((r) => iso(r.createdAt))}::timestamptz[])
      as x(type, contact_id, occurred_at, form_id, event_id, campaign, url, created_at)`);
}
