import { and, asc, desc, eq, inArray, lte, sql } from "drizzle-orm";
import { accounts, contacts, interactions, leadHistory, leads, leadScores, scoreCounters, scoreQueue, scoringModels } from "../../drizzle/schema.ts";
import type { BehaviorCondition, BehaviorCounter, BreakdownItem, GradeBand, ModelTarget, ScoringCondition } from "../../shared/domain/scoring.ts";
import { dayMs, timesToKeep } from "../../shared/domain/scoring.ts";
import { queryRows, type Executor, type Tx } from "../db/client.ts";

export type ModelRow = typeof scoringModels.$inferSelect;

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
    .where(inArray(leads.id, [...leadIds]))
    .orderBy(asc(leads.id));
}

/** Open leads an interaction of these contacts can affect: their own, and their accounts'. */
export async function leadsReachedBy(tx: Executor, contactIds: readonly string[], accountIds: readonly string[]): Promise<ScoringLead[]> {
  if (contactIds.length === 0) return [];
  const byAccount =
    accountIds.length > 0
      ? sql` or ${inArray(leads.accountId, [...accountIds])} or ${inArray(contacts.accountId, [...accountIds])}`
      : sql``;
  return tx
    .select(scoringLeadColumns)
    .from(leads)
    .leftJoin(contacts, eq(contacts.id, leads.contactId))
    .where(and(eq(leads.status, "open"), eq(leads.isTest, false), sql`(${inArray(leads.contactId, [...contactIds])}${byAccount})`))
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
    .where(inArray(contacts.id, [...contactIds]));
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
    .where(inArray(leads.id, [...new Set(leadIds)]))
    .orderBy(asc(leads.id))
    .for("key share");
}

/** Takes the locks in one statement, in hash order, so two transactions never wait on each other in a cycle. */
export async function lockScopes(tx: Tx, keys: Iterable<string>, mode: "shared" | "exclusive"): Promise<void> {
  const unique = [...new Set(keys)];
  if (unique.length === 0) return;
  const fn = mode === "shared" ? sql`pg_advisory_xact_lock_shared` : sql`pg_advisory_xact_lock`;
  await tx.execute(
    sql`select ${fn}(h) from (select distinct hashtextextended(k, 20261122) as h from unnest(${sql.param(unique)}::text[]) as k order by h) as s`,
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
    .where(and(inArray(scoreCounters.leadId, [...leadIds]), modelId ? eq(scoreCounters.modelId, modelId) : undefined));
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
      where l.id in (select unnest(${sql.param([...leadIds])}::uuid[]))
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
  const rows = await db.select().from(scoreCounters).where(inArray(scoreCounters.leadId, [...leadIds]));
  for (const row of rows) {
    const byModel = result.get(row.leadId) ?? new Map<string, Map<number, BehaviorCounter[]>>();
    result.set(row.leadId, byModel);
    const byCondition = byModel.get(row.modelId) ?? new Map<number, BehaviorCounter[]>();
    byModel.set(row.modelId, byCondition);
    const list = byCondition.get(row.conditionIndex) ?? [];
    byCondition.set(row.conditionIndex, list);
    list.push({
      contactId: row.contactId,
      count: row.count,
      times: row.times ? row.times.map((t) => new Date(t).toISOString()) : null,
      lastAt: new Date(row.lastAt).toISOString(),
    });
  }
  return result;
}

// ---- the queue of leads to evaluate ----

/** Asks for these leads to be evaluated at `dueAt` (or earlier, if already asked). */
export async function scheduleScoring(tx: Executor, leadIds: readonly string[], dueAt: Date): Promise<void> {
  if (leadIds.length === 0) return;
  const unique = [...new Set(leadIds)].sort();
  await tx
    .insert(scoreQueue)
    .values(unique.map((leadId) => ({ leadId, dueAt })))
    .onConflictDoUpdate({ target: scoreQueue.leadId, set: { dueAt: sql`least(${scoreQueue.dueAt}, excluded.due_at)` } });
}

/** Schedules each lead at its own time (expiry of a window); a lead listed more than once (one per model) is due at its earliest. */
export async function scheduleEach(tx: Executor, entries: Array<{ leadId: string; dueAt: Date }>): Promise<void> {
  if (entries.length === 0) return;
  // One row per lead: an upsert may not touch the same row twice in one statement.
  const earliest = new Map<string, Date>();
  for (const { leadId, dueAt } of entries) {
    const known = earliest.get(leadId);
    if (!known || dueAt < known) earliest.set(leadId, dueAt);
  }
  const sorted = [...earliest].map(([leadId, dueAt]) => ({ leadId, dueAt })).sort((a, b) => a.leadId.localeCompare(b.leadId));
  await tx
    .insert(scoreQueue)
    .values(sorted)
    .onConflictDoUpdate({ target: scoreQueue.leadId, set: { dueAt: sql`least(${scoreQueue.dueAt}, excluded.due_at)` } });
}

/** Takes due leads off the queue; rows another transaction holds are skipped, never waited for. */
export async function claimDue(tx: Tx, now: Date, limit: number, notThese: readonly string[] = []): Promise<string[]> {
  const rows = await queryRows<{ lead_id: string }>(
    tx,
    sql`delete from score_queue where lead_id in (
      select lead_id from score_queue where due_at <= ${now.toISOString()}::timestamptz
        and lead_id <> all(${sql.param([...notThese])}::uuid[])
      order by due_at limit ${limit} for update skip locked) returning lead_id`,
  );
  return rows.map((r) => r.lead_id).sort();
}

export async function nextDueAt(db: Executor): Promise<Date | null> {
  const rows = await db.select({ dueAt: sql<string | null>`min(${scoreQueue.dueAt})` }).from(scoreQueue);
  const value = rows[0]?.dueAt;
  return value ? new Date(value) : null;
}

export async function queueDepth(db: Executor, now: Date): Promise<number> {
  const rows = await db.select({ n: sql<number>`count(*)::int` }).from(scoreQueue).where(lte(scoreQueue.dueAt, now));
  return Number(rows[0]?.n ?? 0);
}

// ---- scores ----

export type LeadScoreRow = typeof leadScores.$inferSelect;

export async function loadScores(db: Executor, leadIds: readonly string[]): Promise<LeadScoreRow[]> {
  if (leadIds.length === 0) return [];
  return db.select().from(leadScores).where(inArray(leadScores.leadId, [...leadIds]));
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
  await tx
    .insert(leadScores)
    .values(rows)
    .onConflictDoUpdate({
      target: [leadScores.leadId, leadScores.modelId],
      set: {
        score: sql`excluded.score`,
        grade: sql`excluded.grade`,
        previousScore: sql`excluded.previous_score`,
        salesReady: sql`excluded.sales_ready`,
        breakdown: sql`excluded.breakdown`,
        nextExpiryAt: sql`excluded.next_expiry_at`,
        updatedAt: sql`excluded.updated_at`,
      },
    });
}

export async function deleteScores(tx: Tx, pairs: Array<{ leadId: string; modelId: string }>): Promise<void> {
  for (const pair of pairs) {
    await tx.delete(leadScores).where(and(eq(leadScores.leadId, pair.leadId), eq(leadScores.modelId, pair.modelId)));
  }
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
    .where(inArray(contacts.id, [...new Set(ids)]));
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
    .where(inArray(accounts.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r]));
}

// ---- interactions ----

export type NewInteraction = typeof interactions.$inferInsert;

export async function insertInteractions(tx: Tx, rows: NewInteraction[]): Promise<Array<{ id: string }>> {
  if (rows.length === 0) return [];
  return tx.insert(interactions).values(rows).returning({ id: interactions.id });
}

export type { GradeBand };

/** Locks what it can without waiting: a lead someone else is changing is scored on the next round. */
export async function lockLeadsNoWait(tx: Tx, leadIds: readonly string[]) {
  if (leadIds.length === 0) return [];
  return tx
    .select()
    .from(leads)
    .where(inArray(leads.id, [...leadIds]))
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
    .where(inArray(leads.id, [...leadIds]));
}

export async function insertHistories(tx: Tx, entries: Array<typeof leadHistory.$inferInsert>): Promise<void> {
  if (entries.length > 0) await tx.insert(leadHistory).values(entries);
}

export async function processIdsOf(db: Executor, leadIds: readonly string[]): Promise<string[]> {
  if (leadIds.length === 0) return [];
  const rows = await db.selectDistinct({ processId: leads.processId }).from(leads).where(inArray(leads.id, [...leadIds]));
  return rows.map((r) => r.processId).sort();
}
