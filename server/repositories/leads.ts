import { and, asc, desc, eq, gt, inArray, lt, ne, or, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { accounts, contacts, forms, leads, leadScores, leadHistory, marketingEvents, scoringModels, stages, users } from "../../drizzle/schema.ts";
import type { CardScore, LeadCard } from "../../shared/board.ts";
import type { LeadScope } from "../../shared/domain/role-rules.ts";
import { flagProperty, type LeadFlag } from "../../shared/domain/stages.ts";
import { anyId, uuidList, type Executor, type Tx } from "../db/client.ts";

export type LeadRow = typeof leads.$inferSelect;
export type NewLead = typeof leads.$inferInsert;

/** The lead's scores under live models, in the models' order. */
const liveScores = sql<CardScore[] | null>`(
  select json_agg(json_build_object('modelId', ls.model_id, 'score', ls.score, 'grade', ls.grade,
    'previousScore', ls.previous_score, 'salesReady', ls.sales_ready) order by m.created_at, m.id)
  from ${leadScores} ls join ${scoringModels} m on m.id = ls.model_id and m.status = 'live'
  where ls.lead_id = ${leads.id}
)`;

const contactName = sql<string | null>`nullif(trim(concat_ws(' ', ${contacts.firstName}, ${contacts.lastName})), '')`;

function selectCards(db: Executor) {
  return db
    .select({
      id: leads.id,
      topic: leads.topic,
      contactId: leads.contactId,
      accountId: leads.accountId,
      contactName,
      companyName: accounts.name,
      processId: leads.processId,
      stageId: leads.stageId,
      stage: stages.key,
      rank: leads.rank,
      version: leads.version,
      readyForTeleprospecting: leads.readyForTeleprospecting,
      teleprospectingAccepted: leads.teleprospectingAccepted,
      salesReady: leads.salesReady,
      salesAccepted: leads.salesAccepted,
      ownerId: leads.ownerId,
      ownerName: users.name,
      campaign: leads.campaign,
      formId: leads.formId,
      formName: forms.name,
      scores: liveScores,
      source: leads.source,
      isTest: leads.isTest,
      stageEnteredAt: leads.stageEnteredAt,
      updatedAt: leads.updatedAt,
    })
    .from(leads)
    .innerJoin(stages, eq(stages.id, leads.stageId))
    .leftJoin(contacts, eq(contacts.id, leads.contactId))
    // A contact-based lead shows its contact's company when it names no account itself.
    .leftJoin(accounts, eq(accounts.id, sql`coalesce(${leads.accountId}, ${contacts.accountId})`))
    .leftJoin(users, eq(users.id, leads.ownerId))
    .leftJoin(forms, eq(forms.id, leads.formId));
}

type CardRow = Awaited<ReturnType<ReturnType<typeof selectCards>["execute"]>>[number];

function toCard(row: CardRow): LeadCard {
  const { scores, stageEnteredAt, updatedAt, ...rest } = row;
  const best = bestOf(scores ?? []);
  return {
    ...rest,
    scorable: row.contactId !== null || row.accountId !== null,
    score: best?.score ?? null,
    grade: best?.grade ?? null,
    scores: scores ?? [],
    stageEnteredAt: new Date(stageEnteredAt).toISOString(),
    updatedAt: new Date(updatedAt).toISOString(),
  };
}

/** Which open leads of a board a view shows, in SQL (the service maps a view to it). */
export interface BoardLeadFilter {
  salesReady?: boolean;
  ownerId?: string;
  stageIds?: readonly string[];
}

function openOnBoard(processId: string, filter: BoardLeadFilter): SQL[] {
  const where: SQL[] = [eq(leads.processId, processId), eq(leads.status, "open")];
  if (filter.salesReady !== undefined) where.push(eq(leads.salesReady, filter.salesReady));
  if (filter.ownerId !== undefined) where.push(eq(leads.ownerId, filter.ownerId));
  if (filter.stageIds !== undefined) where.push(inArray(leads.stageId, [...filter.stageIds]));
  return where;
}

/**
 * Open leads per stage id of a board, in one statement: a count per stage over
 * leads_open_column_idx (an index-only scan each; a grouped count over the whole board
 * reads the table instead, about twice as slow at 100,000 leads on PostgreSQL).
 */
export async function countOpenByStage(db: Executor, processId: string, filter: BoardLeadFilter = {}): Promise<Map<string, number>> {
  const inStage = and(...openOnBoard(processId, filter), eq(leads.stageId, stages.id));
  const rows = await db
    .select({ stageId: stages.id, count: sql<number>`(select count(*) from ${leads} where ${inStage})`.mapWith(Number) })
    .from(stages)
    .where(eq(stages.processId, processId));
  return new Map(rows.map((r) => [r.stageId, r.count]));
}

/**
 * Up to `limit` open leads of one column after the cursor (from the top without one), in
 * column order: rank (bytewise, the column's "C" collation), then id, as the client sorts.
 * A keyset read of leads_open_column_idx, so a deep page costs what the first one does.
 */
export async function listColumnPage(
  db: Executor,
  column: { processId: string; stageId: string },
  filter: BoardLeadFilter,
  after: { rank: string; id: string } | undefined,
  limit: number,
): Promise<LeadCard[]> {
  const where = openOnBoard(column.processId, filter);
  where.push(eq(leads.stageId, column.stageId));
  if (after) where.push(sql`(${leads.rank}, ${leads.id}) > (${after.rank} collate "C", ${after.id}::uuid)`);
  const rows = await selectCards(db)
    .where(and(...where))
    .orderBy(asc(leads.rank), asc(leads.id))
    .limit(limit);
  return rows.map(toCard);
}

/** The highest score across models (the card's headline when no model is picked). */
function bestOf(scores: CardScore[]): CardScore | undefined {
  let best: CardScore | undefined;
  for (const s of scores) if (!best || s.score > best.score) best = s;
  return best;
}

export async function findCards(db: Executor, leadIds: readonly string[]): Promise<Map<string, LeadCard>> {
  if (leadIds.length === 0) return new Map();
  const rows = await selectCards(db).where(inArray(leads.id, [...leadIds]));
  return new Map(rows.map((r) => [r.id, toCard(r)]));
}

export async function findCard(db: Executor, leadId: string): Promise<LeadCard | undefined> {
  const rows = await selectCards(db).where(eq(leads.id, leadId));
  return rows[0] ? toCard(rows[0]) : undefined;
}

/** What the lead drawer shows besides the card (which has the campaign and form): event, status, stage data. */
export async function findLeadContext(db: Executor, leadId: string) {
  const rows = await db
    .select({
      eventId: leads.eventId,
      eventName: marketingEvents.name,
      linkedinFormId: leads.linkedinFormId,
      journeyId: leads.journeyId,
      status: leads.status,
      closedReason: leads.closedReason,
      stageData: leads.stageData,
    })
    .from(leads)
    .leftJoin(marketingEvents, eq(marketingEvents.id, leads.eventId))
    .where(eq(leads.id, leadId));
  return rows[0];
}

/** What decides who may see a lead (shared/domain/permissions.ts `canSeeLead`). */
export async function findVisibilityFacts(db: Executor, leadId: string): Promise<{ salesReady: boolean; ownerId: string | null } | undefined> {
  const rows = await db.select({ salesReady: leads.salesReady, ownerId: leads.ownerId }).from(leads).where(eq(leads.id, leadId));
  return rows[0];
}

/** Locks the lead row until the transaction ends: moves of one lead are serialised. */
export async function lockLead(tx: Tx, leadId: string): Promise<LeadRow | undefined> {
  const rows = await tx.select().from(leads).where(eq(leads.id, leadId)).for("update");
  return rows[0];
}

export async function findLeadsInStage(
  db: Executor,
  stageId: string,
  ids: string[],
): Promise<Array<{ id: string; rank: string }>> {
  if (ids.length === 0) return [];
  return db
    .select({ id: leads.id, rank: leads.rank })
    .from(leads)
    .where(and(eq(leads.stageId, stageId), inArray(leads.id, ids), eq(leads.status, "open")));
}

/** The rank next to `rank` in a column (above with "before", below with "after"), skipping one lead. */
export async function neighbourRank(
  db: Executor,
  stageId: string,
  rank: string,
  side: "before" | "after",
  excludeId: string,
): Promise<string | null> {
  const where: SQL[] = [eq(leads.stageId, stageId), ne(leads.id, excludeId), eq(leads.status, "open")];
  where.push(side === "after" ? gt(leads.rank, rank) : lt(leads.rank, rank));
  const rows = await db
    .select({ rank: leads.rank })
    .from(leads)
    .where(and(...where))
    .orderBy(side === "after" ? asc(leads.rank) : desc(leads.rank))
    .limit(1);
  return rows[0]?.rank ?? null;
}

/**
 * The last open rank of a column. The stage's process is in the condition so that the
 * open-column index (process, stage, rank) answers from its last entry: with the stage alone,
 * on stale statistics, the planner sorted every open lead of the stage (tens of milliseconds
 * on a large board, under the board's lock for moves and imports).
 */
export async function lastRankInStage(db: Executor, stageId: string, excludeId?: string): Promise<string | null> {
  const rows = await db
    .select({ rank: leads.rank })
    .from(leads)
    .where(
      and(
        eq(leads.processId, sql`(select ${stages.processId} from ${stages} where ${stages.id} = ${stageId})`),
        eq(leads.stageId, stageId),
        eq(leads.status, "open"),
        excludeId ? ne(leads.id, excludeId) : undefined,
      ),
    )
    .orderBy(desc(leads.rank))
    .limit(1);
  return rows[0]?.rank ?? null;
}

export async function insertLead(tx: Tx, lead: NewLead): Promise<LeadRow> {
  const rows = await tx.insert(leads).values(lead).returning();
  return rows[0]!;
}

export async function updateLeadPlacement(
  tx: Tx,
  leadId: string,
  placement: { stageId: string; rank: string; stageChanged: boolean; now: Date },
): Promise<void> {
  await tx
    .update(leads)
    .set({
      stageId: placement.stageId,
      rank: placement.rank,
      version: sql`${leads.version} + 1`,
      updatedAt: placement.now,
      ...(placement.stageChanged ? { stageEnteredAt: placement.now } : {}),
    })
    .where(eq(leads.id, leadId));
}

export async function setFlag(tx: Tx, leadId: string, flag: LeadFlag, value: boolean): Promise<void> {
  await tx
    .update(leads)
    .set({ [flagProperty[flag]]: value })
    .where(eq(leads.id, leadId));
}

export async function insertHistory(tx: Tx, entry: typeof leadHistory.$inferInsert): Promise<void> {
  await tx.insert(leadHistory).values(entry);
}

/** The lead's timeline: stage moves, flags, assignments, process switches and closing, oldest first. */
export async function listHistory(db: Executor, leadId: string) {
  const fromStages = alias(stages, "from_stages");
  const toStages = alias(stages, "to_stages");
  const rows = await db
    .select({
      kind: leadHistory.kind,
      field: leadHistory.field,
      fromStage: fromStages.key,
      toStage: toStages.key,
      fromValue: leadHistory.fromValue,
      toValue: leadHistory.toValue,
      reason: leadHistory.reason,
      note: leadHistory.note,
      actorId: leadHistory.actorId,
      actorName: leadHistory.actorName,
      at: leadHistory.at,
    })
    .from(leadHistory)
    .leftJoin(toStages, eq(toStages.id, leadHistory.toStageId))
    .leftJoin(fromStages, eq(fromStages.id, leadHistory.fromStageId))
    .where(eq(leadHistory.leadId, leadId))
    .orderBy(asc(leadHistory.seq));
  return rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
}

export async function listLeadScores(db: Executor, leadId: string) {
  return db
    .select({
      modelId: leadScores.modelId,
      modelName: scoringModels.name,
      threshold: scoringModels.threshold,
      score: leadScores.score,
      grade: leadScores.grade,
      previousScore: leadScores.previousScore,
      salesReady: leadScores.salesReady,
      breakdown: leadScores.breakdown,
    })
    .from(leadScores)
    .innerJoin(scoringModels, eq(scoringModels.id, leadScores.modelId))
    .where(and(eq(leadScores.leadId, leadId), eq(scoringModels.status, "live")))
    .orderBy(asc(scoringModels.name));
}

/** Open leads whose card shows this contact or account, to refresh their cards after an edit. */
export async function openLeadsShowing(db: Executor, ref: { contactId?: string; accountId?: string }) {
  const where = ref.contactId
    ? eq(leads.contactId, ref.contactId)
    : sql`(${leads.accountId} = ${ref.accountId} or ${leads.contactId} in (select id from contacts where account_id = ${ref.accountId}))`;
  return db
    .select({ id: leads.id, processId: leads.processId })
    .from(leads)
    .where(and(eq(leads.status, "open"), where));
}

export interface LeadSearch {
  q?: string | undefined;
  processId?: string | undefined;
  stage?: string | undefined;
  status?: "open" | "converted" | "disqualified" | undefined;
  contactId?: string | undefined;
  accountId?: string | undefined;
  /** Which leads the reader may see (shared/domain/role-rules.ts `leadScope`). */
  visibleTo: LeadScope;
  limit: number;
  offset: number;
}

function visibleWhere(scope: LeadScope): SQL | undefined {
  if (scope.kind === "all") return undefined;
  return scope.ownerId === null ? eq(leads.salesReady, true) : or(eq(leads.salesReady, true), eq(leads.ownerId, scope.ownerId));
}

export async function searchLeads(db: Executor, filters: LeadSearch): Promise<LeadCard[]> {
  const pattern = filters.q ? `%${filters.q.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
  const rows = await selectCards(db)
    .where(
      and(
        filters.processId ? eq(leads.processId, filters.processId) : undefined,
        filters.stage ? eq(stages.key, filters.stage) : undefined,
        eq(leads.status, filters.status ?? "open"),
        filters.contactId ? eq(leads.contactId, filters.contactId) : undefined,
        filters.accountId ? eq(leads.accountId, filters.accountId) : undefined,
        visibleWhere(filters.visibleTo),
        pattern
          ? sql`(${leads.topic} ilike ${pattern} or ${contactName} ilike ${pattern} or ${accounts.name} ilike ${pattern} or ${contacts.email} ilike ${pattern})`
          : undefined,
      ),
    )
    .orderBy(desc(leads.updatedAt), asc(leads.id))
    .limit(filters.limit)
    .offset(filters.offset);
  return rows.map(toCard);
}

/** Changes a lead's own columns with a version bump: every change is visible to `expectedVersion`. */
export type LeadStateChanges = Partial<
  Pick<
    LeadRow,
    | "topic"
    | "contactId"
    | "accountId"
    | "campaign"
    | "ownerId"
    | "stageData"
    | "status"
    | "closedReason"
    | "closedAt"
    | "processId"
    | "stageId"
    | "rank"
    | "stageEnteredAt"
  >
>;

export async function updateLeadState(tx: Tx, leadId: string, changes: LeadStateChanges, now: Date): Promise<void> {
  await tx
    .update(leads)
    .set({ ...changes, version: sql`${leads.version} + 1`, updatedAt: now })
    .where(eq(leads.id, leadId));
}

/** `findCards` with the ids as one parameter: an import reads hundreds of cards at once. */
export async function findCardsByIds(db: Executor, leadIds: readonly string[]): Promise<Map<string, LeadCard>> {
  if (leadIds.length === 0) return new Map();
  const rows = await selectCards(db).where(anyId(leads.id, leadIds));
  return new Map(rows.map((r) => [r.id, toCard(r)]));
}
