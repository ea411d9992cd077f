import { and, asc, desc, eq, inArray, lte, sql, type AnyColumn, type SQL } from "drizzle-orm";
import { accounts, contacts, interactions, leadHistory, leads, leadScores, scoreCounters, scoreQueue, scoringModels } from "../../drizzle/schema.ts";
import type { BehaviorCondition, BehaviorCounter, BreakdownItem, GradeBand, ModelTarget, ScoringCondition } from "../../shared/domain/scoring.ts";
import { dayMs, timesToKeep } from "../../shared/domain/scoring.ts";
import { queryRows, textList, uuidList, type Executor, type Tx } from "../db/client.ts";

export type ModelRow = typeof scoringModels.$inferSelect;

/**
 * `column = any($1::uuid[])`: one parameter for a whole list. Batches name thousands of ids;
 * an `in ($1, …, $n)` list costs more to build, send and plan than the query itself.
 */
function anyId(column: SQL | AnyColumn, ids: readonly string[]): SQL {
  return sql`${column} = any(${uuidList(ids)})`;
}

export async function listModels(db: Executor): Promise<ModelRow[]> {
  return db.select().from(scoringModels).orderBy(asc(scoringModels.createdAt), asc(scoringModels.id));
}

export async function findModel(db: Executor, id: string): Promise<ModelRow | undefined> {
  const rows = await db.select().from(scoringModels).where(eq(scoringModels.id, id));
  return rows[0];
}

export async function lockModel(tx: Tx, id: string): Promise<ModelRow | undefined> {
  const rows = await tx.select().from(scoringModels).where(eq(scoringModels.id, id)).for("update");
  return rows[0];
}

/** Live models in a stable order: the order cards list their scores in. */
export async function liveModels(db: Executor): Promise<ModelRow[]> {
  return db
    .select()
    .from(scoringModels)
    .where(eq(scoringModels.status, "live"))
    .orderBy(asc(scoringModels.createdAt), asc(scoringModels.id));
}

export async function insertModel(tx: Executor, model: typeof scoringModels.$inferInsert): Promise<ModelRow> {
  const rows = await tx.insert(scoringModels).values(model).returning();
  return rows[0]!;
}

export async function updateModel(tx: Executor, id: string, changes: Partial<typeof scoringModels.$inferInsert>): Promise<ModelRow> {
  const rows = await tx.update(scoringModels).set(changes).where(eq(scoringModels.id, id)).returning();
  return rows[0]!;
}

/** Models whose background rescore was interrupted (a restart): they resume where they were. */
export async function runningRescores(db: Executor): Promise<ModelRow[]> {
  return db.select().from(scoringModels).where(eq(scoringModels.rescoreStatus, "running"));
}

/** While a model's rescore runs, leads above its cursor keep their old score until the rescore reaches them. */
export function awaitsRescore(model: Pick<ModelRow, "rescoreStatus" | "rescoreMode" | "rescoreCursor">, leadId: string): boolean {
  return model.rescoreStatus === "running" && model.rescoreMode === "score" && leadId > (model.rescoreCursor ?? "");
}

// ---- the leads scoring looks at ----

/** A lead as scoring sees it: who its interactions come from and its marketing context. */
export interface ScoringLead {
  id: string;
  contactId: string | null;
  /** The lead's own account, or its contact's. */
  accountId: string | null;
  /** The contact's own account, which decides its interactions' scope lock. */
  contactAccountId: string | null;
  formId: string | null;
  eventId: string | null;
  campaign: string | null;
  /** Open, real leads are scored; closed and test leads lose their scores. */
  active: boolean;
}

const scoringLeadColumns = {
  id: leads.id,
  contactId: leads.contactId,
  accountId: sql<string | null>`coalesce(${leads.accountId}, ${contacts.accountId})`,
  contactAccountId: contacts.accountId,
  formId: leads.formId,
  eventId: leads.eventId,
  campaign: leads.campaign,
  active: sql<boolean>`(${leads.status} = 'open' and not ${leads.isTest})`,
};

export async function scoringLeads(db: Executor, leadIds: readonly string[]): Promise<ScoringLead[]> {
  if (leadIds.length === 0) return [];
  return db
    .select(scoringLeadColumns)
    .from(leads)
    .leftJoin(contacts, eq(contacts.id, leads.contactId))
    .where(anyId(leads.id, leadIds))
    .orderBy(asc(leads.id));
}

/** Open leads an interaction of these contacts can affect: their own, and their accounts'. */
export async function leadsReachedBy(tx: Executor, contactIds: readonly string[], accountIds: readonly string[]): Promise<ScoringLead[]> {
  if (contactIds.length === 0) return [];
  // A union of index lookups: an OR across joined tables would scan every lead.
  const byAccount =
    accountIds.length > 0
      ? sql` union select id from leads where ${anyId(sql`account_id`, accountIds)}
          union select l2.id from leads l2 join contacts c2 on c2.id = l2.contact_id where ${anyId(sql`c2.account_id`, accountIds)}`
      : sql``;
  return tx
    .select(scoringLeadColumns)
    .from(leads)
    .leftJoin(contacts, eq(contacts.id, leads.contactId))
    .where(
      and(
        eq(leads.status, "open"),
        eq(leads.isTest, false),
        sql`${leads.id} in (select id from leads where ${anyId(sql`contact_id`, contactIds)}${byAccount})`,
      ),
    )
    .orderBy(asc(leads.id));
}

/** Open leads that show these contacts or accounts (their scope changed: a field, a link). */
export async function leadIdsFor(db: Executor, ref: { contactIds?: readonly string[]; accountIds?: readonly string[] }): Promise<string[]> {
  const contactIds = [...(ref.contactIds ?? [])];
  const accountIds = [...(ref.accountIds ?? [])];
  if (contactIds.length === 0 && accountIds.length === 0) return [];
  const parts = [
    contactIds.length ? inArray(leads.contactId, contactIds) : undefined,
    accountIds.length ? inArray(leads.accountId, accountIds) : undefined,
    accountIds.length ? inArray(contacts.accountId, accountIds) : undefined,
  ].filter((p) => p !== undefined);
  const rows = await db
    .select({ id: leads.id })
    .from(leads)
    .leftJoin(contacts, eq(contacts.id, leads.contactId))
    .where(and(eq(leads.status, "open"), sql`(${sql.join(parts, sql` or `)})`));
  return rows.map((r) => r.id);
}

export async function contactAccounts(db: Executor, contactIds: readonly string[]): Promise<Map<string, string | null>> {
  if (contactIds.length === 0) return new Map();
  const rows = await db
    .select({ id: contacts.id, accountId: contacts.accountId })
    .from(contacts)
    .where(anyId(contacts.id, contactIds));
  return new Map(rows.map((r) => [r.id, r.accountId]));
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
  const sorted = [...deltas].sort(
    (a, b) =>
      a.leadId.localeCompare(b.leadId) ||
      a.modelId.localeCompare(b.modelId) ||
      a.conditionIndex - b.conditionIndex ||
      a.contactId.localeCompare(b.contactId),
  );
  const payload = JSON.stringify(
    sorted.map((d) => ({
      lead_id: d.leadId,
      model_id: d.modelId,
      condition_index: d.conditionIndex,
      contact_id: d.contactId,
      count: d.count,
      times: d.times,
      window_days: d.windowDays,
      keep_latest: d.keepLatest,
      last_at: d.lastAt,
    })),
  );
  const nowIso = now.toISOString();
  await tx.execute(sql`
    insert into score_counters (lead_id, model_id, condition_index, contact_id, count, times, window_days, keep_latest, last_at)
    select x.lead_id, x.model_id, x.condition_index, x.contact_id, x.count,
      case when x.window_days is null then null else array(
        select t from unnest(x.times) as t
        where t > ${nowIso}::timestamptz - make_interval(days => x.window_days)
        order by t desc limit coalesce(x.keep_latest, 2147483647)) end,
      x.window_days, x.keep_latest, x.last_at
    from jsonb_to_recordset(${payload}::jsonb) as x(lead_id uuid, model_id uuid, condition_index int, contact_id uuid,
      count int, times timestamptz[], window_days int, keep_latest int, last_at timestamptz)
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

// ---- the queue of leads to evaluate ----

/** Asks for these leads to be evaluated at `dueAt` (or earlier, if already asked). */
export async function scheduleScoring(tx: Executor, leadIds: readonly string[], dueAt: Date): Promise<void> {
  if (leadIds.length === 0) return;
  const unique = [...new Set(leadIds)].sort();
  await tx.execute(sql`
    insert into score_queue (lead_id, due_at)
    select id, ${dueAt.toISOString()}::timestamptz from unnest(${uuidList(unique)}) as id
    on conflict (lead_id) do update set due_at = least(score_queue.due_at, excluded.due_at), mark = excluded.mark`);
}

export interface QueueEntry {
  leadId: string;
  /** Null for a window expiry (nothing on the queue to remove). */
  mark: number | null;
}

/**
 * The leads due now, without locking them: recording keeps adding requests while the worker
 * scores, and must never wait for a scoring round. `servedQueueEntries` removes only the
 * requests that were read, so one that arrives meanwhile is served by the next round.
 */
export async function dueEntries(db: Executor, now: Date, limit: number, notThese: readonly string[] = []): Promise<QueueEntry[]> {
  const at = now.toISOString();
  const skip = uuidList(notThese);
  // Requests (new interactions, changed leads), then window expiries: the moment a counted
  // interaction leaves its window is each score's next_expiry_at.
  const rows = await queryRows<{ lead_id: string; mark: string | number | null }>(
    db,
    sql`(select lead_id, mark from score_queue where due_at <= ${at}::timestamptz and lead_id <> all(${skip})
         order by due_at limit ${limit})
        union all
        (select distinct lead_id, null::bigint from lead_scores where next_expiry_at <= ${at}::timestamptz
         and lead_id <> all(${skip}) limit ${limit})`,
  );
  const entries = new Map<string, QueueEntry>();
  for (const r of rows) {
    if (entries.size >= limit && !entries.has(r.lead_id)) break;
    const known = entries.get(r.lead_id);
    if (!known || (known.mark === null && r.mark !== null)) entries.set(r.lead_id, { leadId: r.lead_id, mark: r.mark === null ? null : Number(r.mark) });
  }
  return [...entries.values()];
}

/** Removes the requests that were served, in lead order (the order recording locks them in). */
export async function servedQueueEntries(tx: Tx, entries: readonly QueueEntry[]): Promise<void> {
  const requests = entries.filter((e) => e.mark !== null).sort((a, b) => a.leadId.localeCompare(b.leadId));
  if (requests.length === 0) return;
  const payload = JSON.stringify(requests.map((e) => ({ lead_id: e.leadId, mark: e.mark })));
  await tx.execute(sql`
    delete from score_queue using jsonb_to_recordset(${payload}::jsonb) as x(lead_id uuid, mark bigint)
    where score_queue.lead_id = x.lead_id and score_queue.mark = x.mark`);
}

export async function nextDueAt(db: Executor): Promise<Date | null> {
  const rows = await queryRows<{ at: string | null }>(
    db,
    sql`select to_json(least((select min(due_at) from score_queue), (select min(next_expiry_at) from lead_scores))) as at`,
  );
  const value = rows[0]?.at;
  return value ? new Date(value) : null;
}

/** Leads waiting to be scored now: requests, and scores whose window expired. */
export async function queueDepth(db: Executor, now: Date): Promise<number> {
  const at = now.toISOString();
  const rows = await queryRows<{ n: number }>(
    db,
    sql`select ((select count(*) from score_queue where due_at <= ${at}::timestamptz)
      + (select count(distinct lead_id) from lead_scores where next_expiry_at <= ${at}::timestamptz))::int as n`,
  );
  return Number(rows[0]?.n ?? 0);
}

// ---- scores ----

export type LeadScoreRow = typeof leadScores.$inferSelect;

export async function loadScores(db: Executor, leadIds: readonly string[]): Promise<LeadScoreRow[]> {
  if (leadIds.length === 0) return [];
  return db.select().from(leadScores).where(anyId(leadScores.leadId, leadIds));
}

export async function upsertScores(
  tx: Tx,
  rows: Array<{
    leadId: string;
    modelId: string;
    score: number;
    grade: string | null;
    previousScore: number | null;
    salesReady: boolean;
    breakdown: BreakdownItem[];
    nextExpiryAt: Date | null;
    updatedAt: Date;
  }>,
): Promise<void> {
  if (rows.length === 0) return;
  const payload = JSON.stringify(
    rows.map((r) => ({
      lead_id: r.leadId,
      model_id: r.modelId,
      score: r.score,
      grade: r.grade,
      previous_score: r.previousScore,
      sales_ready: r.salesReady,
      breakdown: r.breakdown,
      next_expiry_at: r.nextExpiryAt?.toISOString() ?? null,
      updated_at: r.updatedAt.toISOString(),
    })),
  );
  await tx.execute(sql`
    insert into lead_scores (lead_id, model_id, score, grade, previous_score, sales_ready, breakdown, next_expiry_at, updated_at)
    select x.lead_id, x.model_id, x.score, x.grade, x.previous_score, x.sales_ready, x.breakdown, x.next_expiry_at, x.updated_at
    from jsonb_to_recordset(${payload}::jsonb) as x(lead_id uuid, model_id uuid, score int, grade text, previous_score int,
      sales_ready boolean, breakdown jsonb, next_expiry_at timestamptz, updated_at timestamptz)
    on conflict (lead_id, model_id) do update set score = excluded.score, grade = excluded.grade,
      previous_score = excluded.previous_score, sales_ready = excluded.sales_ready, breakdown = excluded.breakdown,
      next_expiry_at = excluded.next_expiry_at, updated_at = excluded.updated_at`);
}

export async function deleteScores(tx: Tx, pairs: Array<{ leadId: string; modelId: string }>): Promise<void> {
  if (pairs.length === 0) return;
  await tx.execute(sql`
    delete from lead_scores using unnest(${uuidList(pairs.map((p) => p.leadId))}, ${uuidList(pairs.map((p) => p.modelId))}) as x(lead_id, model_id)
    where lead_scores.lead_id = x.lead_id and lead_scores.model_id = x.model_id`);
}

// ---- the facts conditions test ----

export type ContactFacts = Pick<typeof contacts.$inferSelect, "id" | "email" | "firstName" | "lastName" | "jobTitle" | "phone" | "country" | "source">;
export type AccountFacts = Pick<typeof accounts.$inferSelect, "id" | "name" | "industry" | "employeeCount" | "annualRevenue" | "country" | "websiteDomain">;

export async function contactFacts(db: Executor, ids: readonly string[]): Promise<Map<string, ContactFacts>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({
      id: contacts.id,
      email: contacts.email,
      firstName: contacts.firstName,
      lastName: contacts.lastName,
      jobTitle: contacts.jobTitle,
      phone: contacts.phone,
      country: contacts.country,
      source: contacts.source,
    })
    .from(contacts)
    .where(anyId(contacts.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r]));
}

export async function accountFacts(db: Executor, ids: readonly string[]): Promise<Map<string, AccountFacts>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({
      id: accounts.id,
      name: accounts.name,
      industry: accounts.industry,
      employeeCount: accounts.employeeCount,
      annualRevenue: accounts.annualRevenue,
      country: accounts.country,
      websiteDomain: accounts.websiteDomain,
    })
    .from(accounts)
    .where(anyId(accounts.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r]));
}

// ---- interactions ----

export type NewInteraction = typeof interactions.$inferInsert;

/** One JSON parameter for the whole batch: thousands of rows cost one bind, not nine per row. */
export async function insertInteractions(tx: Tx, rows: NewInteraction[]): Promise<void> {
  if (rows.length === 0) return;
  const payload = JSON.stringify(
    rows.map((r) => ({
      type: r.type,
      contact_id: r.contactId,
      occurred_at: r.occurredAt instanceof Date ? r.occurredAt.toISOString() : r.occurredAt,
      form_id: r.formId ?? null,
      event_id: r.eventId ?? null,
      campaign: r.campaign ?? null,
      url: r.url ?? null,
      created_at: r.createdAt instanceof Date ? r.createdAt.toISOString() : (r.createdAt ?? null),
    })),
  );
  await tx.execute(sql`
    insert into interactions (type, contact_id, occurred_at, form_id, event_id, campaign, url, created_at)
    select x.type::interaction_type, x.contact_id, x.occurred_at, x.form_id, x.event_id, x.campaign, x.url, coalesce(x.created_at, now())
    from jsonb_to_recordset(${payload}::jsonb) as x(type text, contact_id uuid, occurred_at timestamptz, form_id uuid,
      event_id uuid, campaign text, url text, created_at timestamptz)`);
}

export type { GradeBand };

/** Locks what it can without waiting: a lead someone else is changing is scored on the next round. */
export async function lockLeadsNoWait(tx: Tx, leadIds: readonly string[]) {
  if (leadIds.length === 0) return [];
  return tx
    .select()
    .from(leads)
    .where(anyId(leads.id, leadIds))
    .orderBy(asc(leads.id))
    .for("no key update", { skipLocked: true });
}

/** Why the lead's sales-ready mark was last set: only a mark scoring set may scoring take back. */
export async function salesReadyMarkedByScore(db: Executor, leadId: string): Promise<boolean> {
  const rows = await db
    .select({ reason: leadHistory.reason, toValue: leadHistory.toValue })
    .from(leadHistory)
    .where(and(eq(leadHistory.leadId, leadId), eq(leadHistory.kind, "flag"), eq(leadHistory.field, "sales_ready")))
    .orderBy(desc(leadHistory.seq))
    .limit(1);
  return rows[0]?.reason === "score" && rows[0]?.toValue === true;
}

// ---- what scoring changes on leads, in bulk ----

export async function setSalesReady(tx: Tx, flags: ReadonlyMap<string, boolean>): Promise<void> {
  for (const value of [true, false]) {
    const ids = [...flags].filter(([, v]) => v === value).map(([id]) => id);
    if (ids.length > 0) await tx.update(leads).set({ salesReady: value }).where(inArray(leads.id, ids));
  }
}

/** Moves leads to their new stages at the given ranks (a version bump each, as every move). */
export async function placeLeads(tx: Tx, placements: Array<{ leadId: string; stageId: string; rank: string }>, now: Date): Promise<void> {
  if (placements.length === 0) return;
  const payload = JSON.stringify(placements.map((p) => ({ id: p.leadId, stage_id: p.stageId, rank: p.rank })));
  await tx.execute(sql`
    update leads set stage_id = x.stage_id, rank = x.rank, version = leads.version + 1,
      updated_at = ${now.toISOString()}::timestamptz, stage_entered_at = ${now.toISOString()}::timestamptz
    from jsonb_to_recordset(${payload}::jsonb) as x(id uuid, stage_id uuid, rank text)
    where leads.id = x.id`);
}

export async function bumpVersions(tx: Tx, leadIds: readonly string[], now: Date): Promise<void> {
  if (leadIds.length === 0) return;
  await tx
    .update(leads)
    .set({ version: sql`${leads.version} + 1`, updatedAt: now })
    .where(anyId(leads.id, leadIds));
}

export async function insertHistories(tx: Tx, entries: Array<typeof leadHistory.$inferInsert>): Promise<void> {
  if (entries.length > 0) await tx.insert(leadHistory).values(entries);
}

export async function processIdsOf(db: Executor, leadIds: readonly string[]): Promise<string[]> {
  if (leadIds.length === 0) return [];
  const rows = await db.selectDistinct({ processId: leads.processId }).from(leads).where(anyId(leads.id, leadIds));
  return rows.map((r) => r.processId).sort();
}

export async function anyScores(db: Executor, leadIds: readonly string[]): Promise<boolean> {
  if (leadIds.length === 0) return false;
  const rows = await db.select({ leadId: leadScores.leadId }).from(leadScores).where(anyId(leadScores.leadId, leadIds)).limit(1);
  return rows.length > 0;
}
