import type { LeadCard, LeadDetail } from "../../shared/board.ts";
import { rankBetween } from "../../shared/domain/ranks.ts";
import { planMove } from "../../shared/domain/role-rules.ts";
import { DomainError } from "../../shared/errors.ts";
import type { LeadMoveInput } from "../../shared/schemas/board.ts";
import type { LeadInput, LeadSource } from "../../shared/schemas/records.ts";
import type { Db, Executor, Tx } from "../db/client.ts";
import * as boardsRepo from "../repositories/boards.ts";
import * as leadsRepo from "../repositories/leads.ts";
import { requirePermission, toEventActor, type Actor } from "./actor.ts";
import { auditOverride, requireStageWork, requireVisibleLead } from "./lead-access.ts";
import { rebuildLeads } from "./scoring-counters.ts";
import { withBoardEvents, type CommittedEventSink, type EventLog } from "./event-log.ts";

export interface NewLeadContext {
  /** A pre-generated id: matching claims the lead's key under it before the row exists. */
  id?: string;
  source: LeadSource;
  linkedinFormId?: string | null;
  formId?: string | null;
  eventId?: string | null;
  journeyId?: string | null;
  isTest?: boolean;
}

export class LeadService {
  constructor(
    private readonly db: Db,
    private readonly sink: CommittedEventSink,
  ) {}

  async get(leadId: string, db: Executor = this.db): Promise<LeadCard> {
    const card = await leadsRepo.findCard(db, leadId);
    if (!card) throw new DomainError("NOT_FOUND", "No such lead");
    return card;
  }

  async boardIdOf(db: Executor, processId: string): Promise<string> {
    const board = await boardsRepo.findBoardByProcess(db, processId);
    if (!board) throw new Error(`process ${processId} has no board`);
    return board.id;
  }

  /** The lead drawer for one person: a lead they may not see is NOT_FOUND, as an unknown one. */
  async detailFor(actor: Actor, leadId: string): Promise<LeadDetail> {
    requireVisibleLead(actor, await this.get(leadId));
    return this.detail(leadId);
  }

  /** The whole lead, whoever asks (tests, services); people read it through `detailFor`. */
  async detail(leadId: string): Promise<LeadDetail> {
    const card = await this.get(leadId);
    const [scores, history, context] = await Promise.all([
      leadsRepo.listLeadScores(this.db, leadId),
      leadsRepo.listHistory(this.db, leadId),
      leadsRepo.findLeadContext(this.db, leadId),
    ]);
    if (!context) throw new DomainError("NOT_FOUND", "No such lead");
    return { ...card, ...context, scores, history };
  }

  async create(actor: Actor, input: LeadInput, now: Date): Promise<LeadCard> {
    requirePermission(actor, "lead.create");
    return withBoardEvents(this.db, this.sink, now, (tx, log) =>
      this.createInTransaction(tx, log, actor, input, { source: "manual" }, now),
    );
  }

  /**
   * Creates a lead in the first stage of its process, at the bottom of the column,
   * and appends `lead.created`. Used by every channel that brings leads in.
   */
  async createInTransaction(
    tx: Tx,
    log: EventLog,
    actor: Actor,
    input: LeadInput,
    context: NewLeadContext,
    now: Date,
  ): Promise<LeadCard> {
    const board = input.processId
      ? await boardsRepo.findBoardByProcess(tx, input.processId)
      : await boardsRepo.findDefaultBoard(tx);
    if (!board) throw new DomainError("INVALID_INPUT", "No such process", [{ field: "processId", message: "not found" }]);
    const [firstStage] = await boardsRepo.listStages(tx, board.processId);
    if (!firstStage) throw new Error(`process ${board.processId} has no stages`);
    // Lock the board row before reading the last rank, so concurrent creations append in turn.
    await boardsRepo.lockBoard(tx, board.id);
    const rank = rankBetween(await leadsRepo.lastRankInStage(tx, firstStage.id), null);
    const row = await leadsRepo.insertLead(tx, {
      ...(context.id ? { id: context.id } : {}),
      topic: input.topic,
      contactId: input.contactId ?? null,
      accountId: input.accountId ?? null,
      campaign: input.campaign ?? null,
      ownerId: input.ownerId ?? null,
      processId: board.processId,
      stageId: firstStage.id,
      rank,
      source: context.source,
      formId: context.formId ?? null,
      eventId: context.eventId ?? null,
      journeyId: context.journeyId ?? null,
      linkedinFormId: context.linkedinFormId ?? null,
      isTest: context.isTest ?? false,
      stageEnteredAt: now,
      createdAt: now,
      updatedAt: now,
    });
    await leadsRepo.insertHistory(tx, {
      leadId: row.id,
      fromStageId: null,
      toStageId: firstStage.id,
      reason: actor.kind === "user" ? "manual" : "automation",
      actorId: actor.id,
      actorName: actor.name,
      at: now,
    });
    const card = await this.requireCard(tx, row.id);
    await log.append(board.id, { type: "lead.created", actor: toEventActor(actor), lead: card });
    // Its contact or account may have a history already: the new lead is scored from it.
    await rebuildLeads(tx, [row.id], now);
    return card;
  }

  /**
   * One move, one transaction: version check, gate, rank between the requested
   * neighbours, history, event. Exactly one of several concurrent moves of a lead wins.
   * Who may: `lead.move`; `lead.override_gate` for an override; the gate action of every
   * flag the drag ticks; a stage-bound role only where it works; only a lead one may see.
   */
  async move(actor: Actor, input: LeadMoveInput, now: Date): Promise<LeadCard> {
    requirePermission(actor, "lead.move");
    if (input.override) requirePermission(actor, "lead.override_gate");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const lead = await leadsRepo.lockLead(tx, input.leadId);
      if (!lead) throw new DomainError("NOT_FOUND", "No such lead");
      requireVisibleLead(actor, lead);
      if (lead.status !== "open") {
        throw new DomainError("CONFLICT", `This lead is ${lead.status}; it is no longer on the board`, { status: lead.status });
      }
      if (lead.version !== input.expectedVersion) {
        throw new DomainError("CONFLICT", "Someone changed this lead first; showing its current state", {
          expectedVersion: input.expectedVersion,
          currentVersion: lead.version,
          lead: await this.requireCard(tx, lead.id),
        });
      }
      const board = await boardsRepo.findBoardByProcess(tx, lead.processId);
      if (!board) throw new Error(`process ${lead.processId} has no board`);
      const stages = await boardsRepo.listStages(tx, lead.processId);
      const from = stages.find((s) => s.id === lead.stageId);
      const to = stages.find((s) => s.key === input.toStage || s.id === input.toStage);
      if (!from) throw new Error(`lead ${lead.id} is in a stage outside its process`);
      if (!to) {
        throw new DomainError("INVALID_INPUT", `No stage "${input.toStage}" in this process`, [
          { field: "toStage", message: `must be one of: ${stages.map((s) => s.key).join(", ")}` },
        ]);
      }
      requireStageWork(actor, from, to);
      const plan = planMove(actor, lead, from, to, input.override ?? false);
      if (!plan.allowed) {
        if (plan.code === "FORBIDDEN") throw new DomainError("FORBIDDEN", plan.message, { stage: to.key, gate: plan.gate });
        throw new DomainError("ILLEGAL_TRANSITION", plan.message, { stage: to.key, missing: plan.missing });
      }
      const stageChanged = from.id !== to.id;
      // An override that skipped nothing is an ordinary move, and is recorded as one.
      const overridden = plan.skipped.length > 0;
      const reason = overridden ? "override" : "manual";
      // A drag past a gate is the gate's act: it ticks the flag, recorded like a tick.
      for (const flag of plan.ticks) {
        await leadsRepo.setFlag(tx, lead.id, flag, true);
        await leadsRepo.insertHistory(tx, {
          leadId: lead.id,
          kind: "flag",
          field: flag,
          fromValue: false,
          toValue: true,
          reason: "gate",
          note: `set by moving to ${to.name}`,
          actorId: actor.id,
          actorName: actor.name,
          at: now,
        });
      }
      if (stageChanged) {
        await leadsRepo.insertHistory(tx, {
          leadId: lead.id,
          fromStageId: from.id,
          toStageId: to.id,
          reason,
          note: input.reason ?? null,
          actorId: actor.id,
          actorName: actor.name,
          at: now,
        });
      }
      if (overridden) {
        await auditOverride(tx, actor, lead, { fromStage: from.key, toStage: to.key, missing: plan.skipped }, now);
      }
      // The card as it will be once placed, read before the board's lock and completed with
      // the placement below: one round trip fewer while every other move on the board waits.
      const current = await this.requireCard(tx, lead.id);
      // Moves on one board place leads one at a time: two moves into the same gap must not
      // read the column before either commits, or both would take the same rank. The board
      // lock is the one the event append takes anyway (lead, then board); it is taken as late
      // as it can be (after the history and audit rows, which need no rank), since every
      // other move on the board waits while it is held.
      //
      // Statements that need no answer from the one before are sent together (the driver
      // writes them in call order on the transaction's connection, and the server runs them in
      // that order): the column read goes with the lock, whose statement it follows, and the
      // placement with the event. Three round trips under the lock, with the commit.
      const [, rank] = await Promise.all([boardsRepo.lockBoard(tx, board.id), this.rankFor(tx, lead.id, to.id, input)]);
      const card: LeadCard = {
        ...current,
        stageId: to.id,
        stage: to.key,
        rank,
        version: current.version + 1,
        updatedAt: now.toISOString(),
        ...(stageChanged ? { stageEnteredAt: now.toISOString() } : {}),
      };
      await Promise.all([
        leadsRepo.updateLeadPlacement(tx, lead.id, { stageId: to.id, rank, stageChanged, now }),
        log.append(board.id, {
          type: "lead.moved",
          actor: toEventActor(actor),
          lead: card,
          fromStage: from.key,
          toStage: to.key,
          ...(plan.ticks.length > 0 ? { flagsSet: [...plan.ticks] } : {}),
        }),
      ]);
      return card;
    });
  }

  /**
   * Ranks between the neighbours the mover saw. A neighbour that has meanwhile left the
   * column is ignored, and the other neighbour still places the lead: intent survives
   * concurrent reordering without rewriting the column.
   */
  private async rankFor(tx: Tx, leadId: string, stageId: string, input: LeadMoveInput): Promise<string> {
    const ids = [input.afterId, input.beforeId].filter((v): v is string => Boolean(v) && v !== leadId);
    const found = new Map((await leadsRepo.findLeadsInStage(tx, stageId, ids)).map((n) => [n.id, n.rank]));
    const after = input.afterId ? found.get(input.afterId) : undefined;
    const before = input.beforeId ? found.get(input.beforeId) : undefined;
    if (after !== undefined && before !== undefined) return rankBetween(after, before);
    if (after !== undefined) return rankBetween(after, await leadsRepo.neighbourRank(tx, stageId, after, "after", leadId));
    if (before !== undefined) {
      return rankBetween(await leadsRepo.neighbourRank(tx, stageId, before, "before", leadId), before);
    }
    return rankBetween(await leadsRepo.lastRankInStage(tx, stageId, leadId), null);
  }

  private async requireCard(db: Executor, leadId: string): Promise<LeadCard> {
    const card = await leadsRepo.findCard(db, leadId);
    if (!card) throw new Error(`lead ${leadId} vanished inside its own transaction`);
    return card;
  }
}
