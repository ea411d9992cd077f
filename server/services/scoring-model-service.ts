import { and, asc, eq, gt, sql } from "drizzle-orm";
import { contacts, leads, leadScores } from "../../drizzle/schema.ts";
import {
  evaluateLead,
  gradeFor,
  modelApplies,
  type BehaviorCounter,
  type ScoringCondition,
  type ScoringRules,
} from "../../shared/domain/scoring.ts";
import { DomainError } from "../../shared/errors.ts";
import {
  modelProblems,
  type HistogramBucket,
  type ModelInsights,
  type PreviewChange,
  type ScoreExplanation,
  type ScorePreview,
  type ScoringModelInput,
  type ScoringModelPatch,
  type ScoringModelView,
  type ScoringPreviewInput,
} from "../../shared/schemas/scoring.ts";
import { queryRows, uuidList, type Db, type Executor } from "../db/client.ts";
import * as leadsRepo from "../repositories/leads.ts";
import * as scoring from "../repositories/scoring.ts";
import { requirePermission, type Actor } from "./actor.ts";
import { requireVisibleLead } from "./lead-access.ts";
import { rulesOf } from "./lead-scorer.ts";
import type { RescoreJobs } from "./rescore-jobs.ts";

export function toModelView(row: scoring.ModelRow): ScoringModelView {
  return {
    id: row.id,
    name: row.name,
    target: row.target,
    threshold: row.threshold,
    status: row.status,
    grades: row.grades,
    conditions: row.conditions,
    keepSalesReady: row.keepSalesReady,
    version: row.version,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
    rescore: row.rescoreStatus
      ? {
          status: row.rescoreStatus,
          mode: row.rescoreMode ?? "score",
          total: row.rescoreTotal,
          processed: row.rescoreProcessed,
          startedAt: row.rescoreStartedAt ? new Date(row.rescoreStartedAt).toISOString() : new Date(row.updatedAt).toISOString(),
          finishedAt: row.rescoreFinishedAt ? new Date(row.rescoreFinishedAt).toISOString() : null,
          error: row.rescoreError,
        }
      : null,
  };
}

/** Ten buckets over the range the scores span (at least 1 point wide each). */
export function histogram(scores: number[], buckets = 10): HistogramBucket[] {
  if (scores.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const s of scores) {
    if (s < min) min = s;
    if (s > max) max = s;
  }
  const width = Math.max(1, Math.ceil((max - min + 1) / buckets));
  const result: HistogramBucket[] = [];
  for (let lo = min; lo <= max; lo += width) result.push({ min: lo, max: lo + width - 1, count: 0 });
  for (const s of scores) result[Math.min(result.length - 1, Math.floor((s - min) / width))]!.count++;
  return result;
}

function gradeCounts(rules: Pick<ScoringRules, "grades">, grades: Array<string | null>): Array<{ grade: string; count: number }> {
  const counts = new Map(rules.grades.map((g) => [g.grade, 0]));
  for (const g of grades) if (g !== null) counts.set(g, (counts.get(g) ?? 0) + 1);
  return [...counts].map(([grade, count]) => ({ grade, count }));
}

/** The 90th percentile: the score the top 10% reach. */
function topTenPercent(scores: number[]): number | null {
  if (scores.length === 0) return null;
  const sorted = [...scores].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))]!;
}

/** How many leads a preview evaluates per round trip. */
const previewBatch = 2_000;

/**
 * Scoring models: creating and editing them (publishing starts a background rescore),
 * previews that change nothing, insights, and explanations of a lead's scores.
 */
export class ScoringModelService {
  constructor(
    private readonly db: Db,
    private readonly jobs: RescoreJobs,
  ) {}

  async list(actor: Actor): Promise<{ models: ScoringModelView[] }> {
    requirePermission(actor, "board.view");
    return { models: (await scoring.listModels(this.db)).map(toModelView) };
  }

  async get(actor: Actor, id: string): Promise<{ model: ScoringModelView }> {
    requirePermission(actor, "board.view");
    const model = await scoring.findModel(this.db, id);
    if (!model) throw new DomainError("NOT_FOUND", "No such scoring model");
    return { model: toModelView(model) };
  }

  async create(actor: Actor, input: ScoringModelInput, now: Date): Promise<{ model: ScoringModelView }> {
    requirePermission(actor, "model.manage");
    const live = input.status === "live";
    const row = await this.db.transaction(async (tx) => {
      const total = live ? await this.openLeadCount(tx) : 0;
      return scoring.insertModel(tx, {
        name: input.name,
        target: input.target,
        threshold: input.threshold,
        status: input.status,
        grades: input.grades,
        conditions: input.conditions,
        keepSalesReady: input.keepSalesReady,
        createdAt: now,
        updatedAt: now,
        ...(live ? rescoreStart("score", total, now) : {}),
      });
    });
    if (live) this.jobs.start(row.id);
    return { model: toModelView(row) };
  }

  /**
   * Edits a model. Publishing, or changing how a live model scores, rescores every lead in
   * the background; going back to draft removes its scores the same way.
   */
  async update(actor: Actor, id: string, patch: ScoringModelPatch, now: Date): Promise<{ model: ScoringModelView }> {
    requirePermission(actor, "model.manage");
    const { row, rescore } = await this.db.transaction(async (tx) => {
      const current = await scoring.lockModel(tx, id);
      if (!current) throw new DomainError("NOT_FOUND", "No such scoring model");
      if (patch.expectedVersion !== undefined && patch.expectedVersion !== current.version) {
        throw new DomainError("CONFLICT", `The model changed meanwhile (version ${current.version}, you edited ${patch.expectedVersion}); reload it`);
      }
      const merged = {
        target: patch.target ?? current.target,
        grades: patch.grades ?? current.grades,
        conditions: patch.conditions ?? current.conditions,
      };
      const problems = modelProblems(merged);
      if (problems.length > 0) throw new DomainError("INVALID_INPUT", "The model is not valid", problems);
      const status = patch.status ?? current.status;
      const scoringChanged =
        patch.target !== undefined && patch.target !== current.target ||
        patch.threshold !== undefined && patch.threshold !== current.threshold ||
        patch.keepSalesReady !== undefined && patch.keepSalesReady !== current.keepSalesReady ||
        patch.grades !== undefined && JSON.stringify(patch.grades) !== JSON.stringify(current.grades) ||
        patch.conditions !== undefined && JSON.stringify(patch.conditions) !== JSON.stringify(current.conditions);
      const rescore: "score" | "clear" | null =
        status === "live" && (current.status !== "live" || scoringChanged) ? "score" : status === "draft" && current.status === "live" ? "clear" : null;
      const total = rescore ? await this.openLeadCount(tx) : 0;
      const row = await scoring.updateModel(tx, id, {
        name: patch.name ?? current.name,
        target: merged.target,
        threshold: patch.threshold ?? current.threshold,
        status,
        grades: merged.grades,
        conditions: merged.conditions,
        keepSalesReady: patch.keepSalesReady ?? current.keepSalesReady,
        version: current.version + 1,
        updatedAt: now,
        ...(rescore ? rescoreStart(rescore, total, now) : {}),
      });
      return { row, rescore };
    });
    if (rescore) this.jobs.start(row.id);
    return { model: toModelView(row) };
  }

  /** What a model (stored, or an unsaved edit of it) would do to today's open leads; changes nothing. */
  async preview(actor: Actor, id: string | null, input: ScoringPreviewInput, now: Date): Promise<{ preview: ScorePreview }> {
    requirePermission(actor, "model.manage");
    const stored = id ? await scoring.findModel(this.db, id) : undefined;
    if (id && !stored) throw new DomainError("NOT_FOUND", "No such scoring model");
    const target = input.target ?? stored?.target;
    const conditions = input.conditions ?? stored?.conditions;
    const threshold = input.threshold ?? stored?.threshold;
    if (!target || !conditions || threshold === undefined) {
      throw new DomainError("INVALID_INPUT", "A preview of a new model needs its target, threshold and conditions", [
        ...(!target ? [{ field: "target", message: "required" }] : []),
        ...(!conditions ? [{ field: "conditions", message: "required" }] : []),
        ...(threshold === undefined ? [{ field: "threshold", message: "required" }] : []),
      ]);
    }
    const rules: ScoringRules = { target, threshold, grades: input.grades ?? stored?.grades ?? [], conditions };
    const problems = modelProblems(rules);
    if (problems.length > 0) throw new DomainError("INVALID_INPUT", "The model is not valid", problems);
    return { preview: await this.db.transaction((tx) => this.runPreview(tx, stored ?? null, rules, now), { isolationLevel: "repeatable read", accessMode: "read only" }) };
  }

  private async runPreview(db: Executor, stored: scoring.ModelRow | null, rules: ScoringRules, now: Date): Promise<ScorePreview> {
    const scores: number[] = [];
    const grades: Array<string | null> = [];
    const changes: PreviewChange[] = [];
    let considered = 0;
    let wouldBeSalesReady = 0;
    let wouldCross = 0;
    let changedTotal = 0;
    let cursor: string | null = null;
    for (;;) {
      const batch = await db
        .select({ id: leads.id, topic: leads.topic, salesReady: leads.salesReady })
        .from(leads)
        .where(and(eq(leads.status, "open"), eq(leads.isTest, false), cursor ? gt(leads.id, cursor) : undefined))
        .orderBy(asc(leads.id))
        .limit(previewBatch);
      if (batch.length === 0) break;
      cursor = batch[batch.length - 1]!.id;
      considered += batch.length;
      const ids = batch.map((l) => l.id);
      const evaluations = await this.evaluateAll(db, rules, ids, now);
      const current = stored
        ? new Map(
            (await db.select().from(leadScores).where(and(eq(leadScores.modelId, stored.id), sql`${leadScores.leadId} = any(${uuidList(ids)})`))).map((r) => [r.leadId, r]),
          )
        : new Map<string, scoring.LeadScoreRow>();
      for (const lead of batch) {
        const evaluation = evaluations.get(lead.id);
        if (!evaluation) continue;
        scores.push(evaluation.score);
        grades.push(evaluation.grade);
        const reaches = evaluation.score >= rules.threshold;
        if (reaches) wouldBeSalesReady++;
        if (reaches && !lead.salesReady) wouldCross++;
        const before = current.get(lead.id);
        const salesReadyAfter = lead.salesReady || reaches;
        if ((before?.grade ?? null) !== evaluation.grade || salesReadyAfter !== lead.salesReady) {
          changedTotal++;
          changes.push({
            leadId: lead.id,
            topic: lead.topic,
            currentScore: before?.score ?? null,
            currentGrade: before?.grade ?? null,
            score: evaluation.score,
            grade: evaluation.grade,
            salesReadyNow: lead.salesReady,
            salesReadyAfter,
          });
        }
      }
    }
    // Most significant first: new sales-ready leads, then the largest score moves.
    changes.sort(
      (a, b) =>
        Number(b.salesReadyAfter && !b.salesReadyNow) - Number(a.salesReadyAfter && !a.salesReadyNow) ||
        Math.abs(b.score - (b.currentScore ?? 0)) - Math.abs(a.score - (a.currentScore ?? 0)),
    );
    return {
      modelId: stored?.id ?? null,
      leadsConsidered: considered,
      leadsScored: scores.length,
      wouldBeSalesReady,
      wouldCrossThreshold: wouldCross,
      distribution: histogram(scores),
      grades: gradeCounts(rules, grades),
      changes: changes.slice(0, 50),
      changedTotal,
    };
  }

  /** Full recomputation from the interactions table, in memory: the path previews and tests share. */
  async evaluateAll(db: Executor, rules: ScoringRules, leadIds: string[], now: Date) {
    const scopes = (await scoring.scoringLeads(db, leadIds)).filter((l) => l.active && modelApplies(rules.target, l));
    const ids = scopes.map((l) => l.id);
    const counters = new Map<string, Map<number, BehaviorCounter[]>>();
    for (const [index, condition] of rules.conditions.entries()) {
      if (condition.kind !== "behavior") continue;
      for (const row of await scoring.countFromInteractions(db, rules.target, condition, ids, now)) {
        const byCondition = counters.get(row.leadId) ?? new Map<number, BehaviorCounter[]>();
        counters.set(row.leadId, byCondition);
        byCondition.set(index, [...(byCondition.get(index) ?? []), row]);
      }
    }
    const [contactsById, accountsById] = await Promise.all([
      scoring.contactFacts(db, scopes.flatMap((s) => (s.contactId ? [s.contactId] : []))),
      scoring.accountFacts(db, scopes.flatMap((s) => (s.accountId ? [s.accountId] : []))),
    ]);
    const result = new Map<string, ReturnType<typeof evaluateLead>>();
    for (const lead of scopes) {
      const contact = rules.target === "contact" && lead.contactId ? (contactsById.get(lead.contactId) ?? null) : null;
      const account = lead.accountId ? (accountsById.get(lead.accountId) ?? null) : null;
      result.set(lead.id, evaluateLead(rules, { contact, account, counters: counters.get(lead.id) ?? new Map() }, now));
    }
    return result;
  }

  async insights(actor: Actor, id: string): Promise<{ insights: ModelInsights }> {
    requirePermission(actor, "model.view");
    const model = await scoring.findModel(this.db, id);
    if (!model) throw new DomainError("NOT_FOUND", "No such scoring model");
    const rows = await this.db
      .select({ score: leadScores.score, grade: leadScores.grade, salesReady: leadScores.salesReady })
      .from(leadScores)
      .innerJoin(leads, eq(leads.id, leadScores.leadId))
      .where(and(eq(leadScores.modelId, id), eq(leads.status, "open")));
    const scores = rows.map((r) => r.score);
    return {
      insights: {
        modelId: id,
        leadsScored: rows.length,
        distribution: histogram(scores),
        grades: gradeCounts(model, rows.map((r) => r.grade ?? gradeFor(model.grades, r.score))),
        top10PercentScore: topTenPercent(scores),
        salesReady: rows.filter((r) => r.salesReady).length,
        averageScore: scores.length ? Math.round((scores.reduce((a, b) => a + b, 0) / scores.length) * 10) / 10 : null,
      },
    };
  }

  /** A lead's scores under live models, each with its breakdown and the latest interactions behind it. */
  async explain(actor: Actor, leadId: string, now: Date): Promise<{ scores: ScoreExplanation[] }> {
    requirePermission(actor, "board.view");
    const facts = await leadsRepo.findVisibilityFacts(this.db, leadId);
    if (!facts) throw new DomainError("NOT_FOUND", "No such lead");
    requireVisibleLead(actor, facts);
    const [lead] = await scoring.scoringLeads(this.db, [leadId]);
    if (!lead) throw new DomainError("NOT_FOUND", "No such lead");
    const models = new Map((await scoring.liveModels(this.db)).map((m) => [m.id, m]));
    const rows = (await scoring.loadScores(this.db, [leadId])).filter((r) => models.has(r.modelId));
    const names = new Map<string, string | null>();
    const nameOf = async (contactId: string) => {
      if (!names.has(contactId)) {
        const [c] = await this.db
          .select({ name: sql<string | null>`nullif(trim(concat_ws(' ', ${contacts.firstName}, ${contacts.lastName})), '')`, email: contacts.email })
          .from(contacts)
          .where(eq(contacts.id, contactId));
        names.set(contactId, c?.name ?? c?.email ?? null);
      }
      return names.get(contactId) ?? null;
    };
    const scores: ScoreExplanation[] = [];
    for (const row of rows) {
      const model = models.get(row.modelId)!;
      const breakdown: ScoreExplanation["breakdown"] = [];
      for (const item of row.breakdown) {
        const condition: ScoringCondition | undefined = model.conditions[item.condition];
        const contributors = item.contributors
          ? await Promise.all(item.contributors.map(async (c) => ({ ...c, contactName: await nameOf(c.contactId) })))
          : undefined;
        const evidence =
          condition?.kind === "behavior" ? await this.evidence(lead, model.target, condition, now, nameOf) : undefined;
        const { contributors: _ids, ...rest } = item;
        breakdown.push({ ...rest, ...(contributors ? { contributors } : {}), ...(evidence ? { evidence } : {}) });
      }
      scores.push({
        modelId: model.id,
        modelName: model.name,
        threshold: model.threshold,
        score: row.score,
        grade: row.grade,
        previousScore: row.previousScore,
        salesReady: row.salesReady,
        updatedAt: new Date(row.updatedAt).toISOString(),
        breakdown,
      });
    }
    return { scores };
  }

  /** The latest three interactions a behaviour condition counted for this lead. */
  private async evidence(
    lead: scoring.ScoringLead,
    target: "contact" | "account",
    condition: Extract<ScoringCondition, { kind: "behavior" }>,
    now: Date,
    nameOf: (contactId: string) => Promise<string | null>,
  ) {
    if (condition.frequency === "none") return [];
    const scope =
      target === "contact" ? sql`i.contact_id = ${lead.contactId}` : sql`i.contact_id in (select id from contacts where account_id = ${lead.accountId})`;
    const window =
      condition.withinDays !== undefined ? sql` and i.occurred_at > ${new Date(now.getTime() - condition.withinDays * 86_400_000).toISOString()}::timestamptz` : sql``;
    const context = condition.sameContext
      ? sql` and ((${lead.formId}::uuid is not null and i.form_id = ${lead.formId}::uuid) or (${lead.eventId}::uuid is not null and i.event_id = ${lead.eventId}::uuid) or (${lead.campaign}::text is not null and i.campaign = ${lead.campaign}::text))`
      : sql``;
    const rows = await queryRows<{ id: string; type: string; at: string; contact_id: string }>(
      this.db,
      sql`select i.id, i.type::text as type, to_json(i.occurred_at) as at, i.contact_id from interactions i
        where ${scope} and i.type = ${condition.interaction}${window}${context}
        order by i.occurred_at desc limit 3`,
    );
    return Promise.all(
      rows.map(async (r) => ({ interactionId: r.id, type: r.type, at: new Date(r.at).toISOString(), contactId: r.contact_id, contactName: await nameOf(r.contact_id) })),
    );
  }

  private async openLeadCount(db: Executor): Promise<number> {
    const rows = await db.select({ n: sql<number>`count(*)::int` }).from(leads).where(eq(leads.status, "open"));
    return Number(rows[0]?.n ?? 0);
  }
}

function rescoreStart(mode: "score" | "clear", total: number, now: Date) {
  return {
    rescoreStatus: "running" as const,
    rescoreMode: mode,
    rescoreCursor: null,
    rescoreTotal: total,
    rescoreProcessed: 0,
    rescoreStartedAt: now,
    rescoreFinishedAt: null,
    rescoreError: null,
  };
}

