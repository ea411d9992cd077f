import type { BoardEventDraft, BoardStage, ScoreChange } from "../../shared/board.ts";
import { ranksAfter } from "../../shared/domain/ranks.ts";
import type { leadHistory } from "../../drizzle/schema.ts";
import {
  evaluateLead,
  modelApplies,
  salesReadyAfter,
  type BehaviorCounter,
  type BreakdownItem,
  type Evaluation,
  type ScoringRules,
} from "../../shared/domain/scoring.ts";
import { checkTransition, stageAfterFlag, type StageRule } from "../../shared/domain/stages.ts";
import type { Tx } from "../db/client.ts";
import * as boardsRepo from "../repositories/boards.ts";
import * as leadsRepo from "../repositories/leads.ts";
import * as scoring from "../repositories/scoring.ts";
import { systemActor, toEventActor } from "./actor.ts";
import type { EventLog } from "./event-log.ts";

export const scoringActor = systemActor("Scoring");

export function rulesOf(model: scoring.ModelRow): ScoringRules {
  return { target: model.target, threshold: model.threshold, grades: model.grades, conditions: model.conditions };
}

interface Planned {
  model: scoring.ModelRow;
  /** Null: the model no longer scores this lead (its score goes). */
  evaluation: Evaluation | null;
}

export interface ScoringRound {
  /** Leads evaluated and written. */
  scored: string[];
  /** Leads someone else was changing: they go back on the queue. */
  deferred: string[];
  events: number;
}

function sameBreakdown(a: BreakdownItem[], b: BreakdownItem[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Evaluates these leads under every live model from their counters and fields, writes what
 * changed, and appends one `lead.scored` per lead whose scores changed. Reaching a threshold
 * marks the lead sales-ready (and jumps it where its stage says so); a first score moves it
 * out of the first stage. Evaluation reads without locks; writing takes the boards' locks
 * first, then the leads' without waiting, so scoring never joins a lock cycle with people's moves.
 */
export async function scoreLeads(
  tx: Tx,
  log: EventLog,
  leadIds: readonly string[],
  now: Date,
  served: readonly scoring.QueueEntry[] = [],
): Promise<ScoringRound> {
  const ids = [...new Set(leadIds)].sort();
  if (ids.length === 0) {
    await scoring.servedQueueEntries(tx, served);
    return { scored: [], deferred: [], events: 0 };
  }
  const [allModels, scopes, counters] = await Promise.all([
    scoring.listModels(tx),
    scoring.scoringLeads(tx, ids),
    scoring.loadCounters(tx, ids),
  ]);
  const live = allModels.filter((m) => m.status === "live");
  // No live model and no score to take back: nothing to write, so no lock to take.
  if (live.length === 0 && !(await scoring.anyScores(tx, ids))) {
    await scoring.servedQueueEntries(tx, served);
    return { scored: ids, deferred: [], events: 0 };
  }
  // Facts only for models that test them: behaviour alone reads nothing but the counters.
  const tests = (kind: "contact" | "account") => live.some((m) => m.conditions.some((c) => c.kind === kind));
  const [contactsById, accountsById] = await Promise.all([
    tests("contact") ? scoring.contactFacts(tx, scopes.flatMap((s) => (s.contactId ? [s.contactId] : []))) : new Map<string, scoring.ContactFacts>(),
    tests("account") ? scoring.accountFacts(tx, scopes.flatMap((s) => (s.accountId ? [s.accountId] : []))) : new Map<string, scoring.AccountFacts>(),
  ]);

  const plans = new Map<string, Planned[]>();
  for (const lead of scopes) {
    const planned: Planned[] = [];
    for (const model of live) {
      if (scoring.awaitsRescore(model, lead.id)) continue;
      if (!lead.active || !modelApplies(model.target, lead)) {
        planned.push({ model, evaluation: null });
        continue;
      }
      const contact = model.target === "contact" && lead.contactId ? (contactsById.get(lead.contactId) ?? null) : null;
      const account = lead.accountId ? (accountsById.get(lead.accountId) ?? null) : null;
      const held = counters.get(lead.id)?.get(model.id) ?? new Map<number, BehaviorCounter[]>();
      planned.push({ model, evaluation: evaluateLead(rulesOf(model), { contact, account, counters: held }, now) });
    }
    plans.set(lead.id, planned);
  }

  // Writing: boards first (sorted), then the leads that are free.
  const processIds = [...new Set(scopes.map((l) => l.processId))].sort();
  const boardByProcess = new Map<string, boardsRepo.BoardRow>();
  for (const processId of processIds) {
    const board = await boardsRepo.findBoardByProcess(tx, processId);
    if (board) boardByProcess.set(processId, board);
  }
  for (const board of [...boardByProcess.values()].sort((a, b) => a.id.localeCompare(b.id))) await boardsRepo.lockBoard(tx, board.id);
  const locked = await scoring.lockLeadsNoWait(tx, ids);
  const lockedIds = new Set(locked.map((l) => l.id));
  // Ids that are no longer leads simply drop off the queue.
  const known = new Set(scopes.map((l) => l.id));
  const deferred = ids.filter((id) => known.has(id) && !lockedIds.has(id));

  const existing = await scoring.loadScores(tx, [...lockedIds]);
  const existingByLead = new Map<string, Map<string, scoring.LeadScoreRow>>();
  for (const row of existing) {
    const byModel = existingByLead.get(row.leadId) ?? new Map<string, scoring.LeadScoreRow>();
    byModel.set(row.modelId, row);
    existingByLead.set(row.leadId, byModel);
  }
  const modelById = new Map(allModels.map((m) => [m.id, m]));
  const upserts: Parameters<typeof scoring.upsertScores>[1] = [];
  const removals: Array<{ leadId: string; modelId: string }> = [];
  const outcomes: Array<{ lead: (typeof locked)[number]; changes: ScoreChange[]; crossed: boolean; dropped: boolean; holdsSalesReady: boolean; firstScored: boolean }> = [];

  for (const lead of locked) {
    const before = existingByLead.get(lead.id) ?? new Map<string, scoring.LeadScoreRow>();
    const planned = plans.get(lead.id) ?? [];
    const changes: ScoreChange[] = [];
    let crossed = false;
    let dropped = false;
    let holdsSalesReady = false;
    let scoredAfter = 0;
    const plannedIds = new Set(planned.map((p) => p.model.id));
    // Scores of models that are no longer live go (a model back to draft), unless a rescore will reach them.
    for (const [modelId, row] of before) {
      const model = modelById.get(modelId);
      if (plannedIds.has(modelId) || (model?.status === "live" && scoring.awaitsRescore(model, lead.id))) continue;
      if (model?.status === "live") continue;
      removals.push({ leadId: lead.id, modelId });
      changes.push({ modelId, modelName: model?.name ?? "", from: row.score, to: null, grade: null, threshold: model?.threshold ?? 0, crossedThreshold: false });
    }
    for (const { model, evaluation } of planned) {
      const old = before.get(model.id);
      if (!evaluation) {
        if (old) {
          removals.push({ leadId: lead.id, modelId: model.id });
          changes.push({ modelId: model.id, modelName: model.name, from: old.score, to: null, grade: null, threshold: model.threshold, crossedThreshold: false });
        }
        continue;
      }
      scoredAfter++;
      const readiness = salesReadyAfter(old?.salesReady ?? false, evaluation.score, model.threshold, model.keepSalesReady);
      crossed ||= readiness.crossed;
      dropped ||= readiness.dropped;
      holdsSalesReady ||= readiness.salesReady;
      const scoreChanged = !old || old.score !== evaluation.score;
      const visible = scoreChanged || old.grade !== evaluation.grade || readiness.crossed;
      const stored =
        visible ||
        old.salesReady !== readiness.salesReady ||
        // The next expiry is the schedule the worker reads: it must move even when the score does not.
        (old.nextExpiryAt ? new Date(old.nextExpiryAt).toISOString() : null) !== evaluation.nextExpiryAt ||
        !sameBreakdown(old.breakdown, evaluation.breakdown);
      if (stored) {
        upserts.push({
          leadId: lead.id,
          modelId: model.id,
          score: evaluation.score,
          grade: evaluation.grade,
          previousScore: old ? (scoreChanged ? old.score : old.previousScore) : null,
          salesReady: readiness.salesReady,
          breakdown: evaluation.breakdown,
          nextExpiryAt: evaluation.nextExpiryAt ? new Date(evaluation.nextExpiryAt) : null,
          updatedAt: now,
        });
      }
      if (visible) {
        changes.push({
          modelId: model.id,
          modelName: model.name,
          from: old?.score ?? null,
          to: evaluation.score,
          grade: evaluation.grade,
          threshold: model.threshold,
          crossedThreshold: readiness.crossed,
        });
      }
    }
    outcomes.push({ lead, changes, crossed, dropped, holdsSalesReady, firstScored: before.size === 0 && scoredAfter > 0 });
  }
  await scoring.deleteScores(tx, removals);
  await scoring.upsertScores(tx, upserts);

  const stagesByProcess = new Map<string, BoardStage[]>();
  const stagesOf = async (processId: string) => {
    let stages = stagesByProcess.get(processId);
    if (!stages) {
      stages = await boardsRepo.listStages(tx, processId);
      stagesByProcess.set(processId, stages);
    }
    return stages;
  };
  const automated: Array<{ leadId: string; salesReadyMarked: boolean; moved: { fromStage: string; toStage: string } | null }> = [];
  const flags = new Map<string, boolean>();
  const histories: Array<typeof leadHistory.$inferInsert> = [];
  const moves = new Map<string, Array<{ leadId: string }>>();
  const at = { actorId: null, actorName: scoringActor.name, at: now };
  for (const outcome of outcomes) {
    const { lead } = outcome;
    if (lead.status !== "open") continue;
    let salesReadyMarked = false;
    let moved: { fromStage: string; toStage: string } | null = null;
    // Stages matter only to a lead whose flag or column may change.
    const stages = outcome.crossed || outcome.dropped || outcome.firstScored ? await stagesOf(lead.processId) : [];
    const current = stages.find((s) => s.id === lead.stageId);
    let target: StageRule | null = null;
    if (outcome.crossed && !lead.salesReady && !lead.isTest) {
      flags.set(lead.id, true);
      const reached = outcome.changes.filter((c) => c.crossedThreshold).map((c) => `${c.modelName} ${c.to} ≥ ${c.threshold}`);
      histories.push({ leadId: lead.id, kind: "flag", field: "sales_ready", fromValue: false, toValue: true, reason: "score", note: reached.join("; "), ...at });
      salesReadyMarked = true;
      target = current ? stageAfterFlag(stages, current, "sales_ready") : null;
    } else if (outcome.dropped && !outcome.holdsSalesReady && lead.salesReady && (await scoring.salesReadyMarkedByScore(tx, lead.id))) {
      flags.set(lead.id, false);
      histories.push({ leadId: lead.id, kind: "flag", field: "sales_ready", fromValue: true, toValue: false, reason: "score", note: "score fell below the threshold", ...at });
    } else if (outcome.firstScored && current && !lead.isTest) {
      // A lead scored for the first time leaves the first stage: marketing qualification has begun.
      const [first, next] = stages;
      if (first && next && current.id === first.id && checkTransition(lead, first, next).allowed) target = next;
    }
    if (current && target && target.id !== current.id) {
      moved = { fromStage: current.key, toStage: target.key };
      const moving = moves.get(target.id);
      if (moving) moving.push({ leadId: lead.id });
      else moves.set(target.id, [{ leadId: lead.id }]);
      histories.push({
        leadId: lead.id,
        fromStageId: current.id,
        toStageId: target.id,
        reason: salesReadyMarked ? "score" : "automation",
        note: salesReadyMarked ? "sales-ready by score" : "first scored",
        ...at,
      });
    }
    if (outcome.changes.length > 0 || flags.has(lead.id) || moved) automated.push({ leadId: lead.id, salesReadyMarked, moved });
  }
  // Set-based writes: a rescore may move thousands of leads out of Inquiry at once.
  await scoring.setSalesReady(tx, flags);
  const placements: Array<{ leadId: string; stageId: string; rank: string }> = [];
  for (const [stageId, leadsMoving] of moves) {
    // The board lock is held: appends to the column are serialised, as in lead creation.
    const ranks = ranksAfter(await leadsRepo.lastRankInStage(tx, stageId), leadsMoving.length);
    leadsMoving.forEach((m, i) => placements.push({ leadId: m.leadId, stageId, rank: ranks[i]! }));
  }
  await scoring.placeLeads(tx, placements, now);
  const placed = new Set(placements.map((p) => p.leadId));
  await scoring.bumpVersions(tx, [...flags.keys()].filter((id) => !placed.has(id)), now);
  await scoring.insertHistories(tx, histories);

  const cards = await leadsRepo.findCards(tx, automated.map((a) => a.leadId));
  const changesByLead = new Map(outcomes.map((o) => [o.lead.id, o.changes]));
  const drafts = new Map<string, BoardEventDraft[]>();
  for (const item of automated) {
    const card = cards.get(item.leadId);
    const board = card ? boardByProcess.get(card.processId) : undefined;
    if (!card || !board) continue;
    const list = drafts.get(board.id) ?? [];
    list.push({
      type: "lead.scored",
      actor: toEventActor(scoringActor),
      lead: card,
      changes: changesByLead.get(item.leadId) ?? [],
      salesReadyMarked: item.salesReadyMarked,
      moved: item.moved,
    });
    drafts.set(board.id, list);
  }
  // The queue last, in one statement, alongside the events (one round trip less): recording
  // waits on these rows, so they are held only until commit. A deferred lead's request stays
  // for the next round.
  const waiting = new Set(deferred);
  const [events] = await Promise.all([
    (async () => {
      let appended = 0;
      for (const [boardId, list] of drafts) appended += (await log.appendAll(boardId, list)).length;
      return appended;
    })(),
    scoring.servedQueueEntries(tx, served.filter((e) => !waiting.has(e.leadId))),
  ]);
  return { scored: [...lockedIds], deferred, events };
}
