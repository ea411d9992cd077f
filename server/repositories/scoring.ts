import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import { accounts, contacts, leadHistory, leads, leadScores } from "../../drizzle/schema.ts";
import type { BreakdownItem } from "../../shared/domain/scoring.ts";
import { anyId, uuidList, type Executor, type Tx } from "../db/client.ts";

/**
 * Scoring's queries, by area: models (scoring-models.ts), counters and scope locks
 * (score-counters.ts), the queue of leads to evaluate (score-queue.ts), and here the leads
 * as scoring sees them, their scores, the facts conditions test and what scoring writes on leads.
 */
export * from "./scoring-models.ts";
export * from "./score-counters.ts";
export * from "./score-queue.ts";

// ---- the leads scoring looks at ----

/** A lead as scoring sees it: who its interactions come from and its marketing context. */
export interface ScoringLead {
  id: string;
  /** Whose board shows the lead: scoring locks it before the lead. */
  processId: string;
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
  processId: leads.processId,
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

export async function anyScores(db: Executor, leadIds: readonly string[]): Promise<boolean> {
  if (leadIds.length === 0) return false;
  const rows = await db.select({ leadId: leadScores.leadId }).from(leadScores).where(anyId(leadScores.leadId, leadIds)).limit(1);
  return rows.length > 0;
}
