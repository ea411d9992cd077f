import type { BoardStage, LeadCard } from "../../shared/board.ts";
import { rankBetween } from "../../shared/domain/ranks.ts";
import { conversionMessage, missingForConversion } from "../../shared/domain/stages.ts";
import { DomainError } from "../../shared/errors.ts";
import type { ConvertInput, DisqualifyInput, Opportunity, ReopenInput } from "../../shared/schemas/lifecycle.ts";
import type { Db, Executor, Tx } from "../db/client.ts";
import * as boardsRepo from "../repositories/boards.ts";
import * as leadsRepo from "../repositories/leads.ts";
import * as opportunitiesRepo from "../repositories/opportunities.ts";
import * as processesRepo from "../repositories/processes.ts";
import { requirePermission, toEventActor, type Actor } from "./actor.ts";
import { requireVisibleLead } from "./lead-access.ts";
import { rebuildLeads } from "./scoring-counters.ts";
import { withBoardEvents, type CommittedEventSink } from "./event-log.ts";

type LeadStatus = leadsRepo.LeadRow["status"];

/** A lead locked for a change, with the board and stages of its process. */
export interface LockedLead {
  lead: leadsRepo.LeadRow;
  board: boardsRepo.BoardRow;
  stages: BoardStage[];
  current: BoardStage;
}

const statusConflicts: Record<LeadStatus, Partial<Record<LeadStatus, string>>> = {
  open: {
    converted: "This lead was already converted",
    disqualified: "This lead was already disqualified",
  },
  disqualified: {
    open: "This lead is open; only a disqualified lead can be reopened",
    converted: "This lead was converted; a converted lead cannot be reopened",
  },
  converted: {},
};

export async function requireCard(db: Executor, leadId: string): Promise<LeadCard> {
  const card = await leadsRepo.findCard(db, leadId);
  if (!card) throw new Error(`lead ${leadId} vanished inside its own transaction`);
  return card;
}

/**
 * Locks the lead until the transaction ends, then checks what every lifecycle command
 * checks: it exists and the actor may see it (else NOT_FOUND, before the version check,
 * whose CONFLICT would show the card), the caller saw its current version, and it has the
 * status the command needs (closed leads are off the board and take no edits).
 */
export async function lockLeadForChange(
  tx: Tx,
  actor: Actor,
  leadId: string,
  expectedVersion: number,
  status: "open" | "disqualified" = "open",
): Promise<LockedLead> {
  const lead = await leadsRepo.lockLead(tx, leadId);
  if (!lead) throw new DomainError("NOT_FOUND", "No such lead");
  requireVisibleLead(actor, lead);
  if (lead.version !== expectedVersion) {
    throw new DomainError("CONFLICT", "Someone changed this lead first; showing its current state", {
      expectedVersion,
      currentVersion: lead.version,
      lead: await requireCard(tx, lead.id),
    });
  }
  if (lead.status !== status) {
    const message = statusConflicts[status][lead.status] ?? `This lead is ${lead.status}`;
    throw new DomainError("CONFLICT", message, { status: lead.status });
  }
  const board = await boardsRepo.findBoardByProcess(tx, lead.processId);
  if (!board) throw new Error(`process ${lead.processId} has no board`);
  const stages = await boardsRepo.listStages(tx, lead.processId);
  const current = stages.find((s) => s.id === lead.stageId);
  if (!current) throw new Error(`lead ${lead.id} is in a stage outside its process`);
  return { lead, board, stages, current };
}

/** "Topic - Company" (or the contact's name): what sales calls the deal until they rename it. */
export function defaultOpportunityName(card: Pick<LeadCard, "topic" | "companyName" | "contactName">): string {
  const who = card.companyName ?? card.contactName;
  return (who ? `${card.topic} - ${who}` : card.topic).slice(0, 300);
}

/** Leaving the board: conversion to an opportunity, disqualification, and the way back. */
export class LeadClosingService {
  constructor(
    private readonly db: Db,
    private readonly sink: CommittedEventSink,
  ) {}

  async convert(
    actor: Actor,
    leadId: string,
    input: ConvertInput,
    now: Date,
  ): Promise<{ lead: LeadCard; opportunity: Opportunity }> {
    requirePermission(actor, "lead.convert");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const { lead, board } = await lockLeadForChange(tx, actor, leadId, input.expectedVersion);
      const process = await processesRepo.findProcess(tx, lead.processId);
      if (!process) throw new Error(`lead ${lead.id} has no process`);
      const missing = missingForConversion(lead, process.conversionRequirements);
      if (missing.length > 0) throw new DomainError("ILLEGAL_TRANSITION", conversionMessage(missing), { missing });
      const before = await requireCard(tx, lead.id);
      const name = input.name ?? defaultOpportunityName(before);
      const accountId =
        lead.accountId ?? (lead.contactId ? await opportunitiesRepo.findContactAccountId(tx, lead.contactId) : null);
      const opportunity = await opportunitiesRepo.insertOpportunity(tx, {
        leadId: lead.id,
        name,
        contactId: lead.contactId,
        accountId,
        ownerId: lead.ownerId,
        estimatedValue: input.estimatedValue ?? null,
        createdAt: now,
        updatedAt: now,
      });
      await leadsRepo.updateLeadState(tx, lead.id, { status: "converted", closedAt: now }, now);
      await this.statusHistory(tx, actor, lead.id, "open", "converted", `opportunity "${name}"`, now);
      const card = await requireCard(tx, lead.id);
      await log.append(board.id, { type: "lead.removed", reason: "converted", actor: toEventActor(actor), lead: card });
      return { lead: card, opportunity };
    });
  }

  async disqualify(actor: Actor, leadId: string, input: DisqualifyInput, now: Date): Promise<LeadCard> {
    requirePermission(actor, "lead.disqualify");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const { lead, board } = await lockLeadForChange(tx, actor, leadId, input.expectedVersion);
      await leadsRepo.updateLeadState(
        tx,
        lead.id,
        { status: "disqualified", closedReason: input.reason, closedAt: now },
        now,
      );
      await this.statusHistory(tx, actor, lead.id, "open", "disqualified", input.reason, now);
      const card = await requireCard(tx, lead.id);
      await log.append(board.id, { type: "lead.removed", reason: "disqualified", actor: toEventActor(actor), lead: card });
      return card;
    });
  }

  /** A disqualified lead comes back open, at the bottom of the stage it left from. */
  async reopen(actor: Actor, leadId: string, input: ReopenInput, now: Date): Promise<LeadCard> {
    // Undoing a disqualification is the same authority as making one.
    requirePermission(actor, "lead.disqualify");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const { lead, board } = await lockLeadForChange(tx, actor, leadId, input.expectedVersion, "disqualified");
      // Appends to the column are serialised by the board lock, as in lead creation.
      await boardsRepo.lockBoard(tx, board.id);
      const rank = rankBetween(await leadsRepo.lastRankInStage(tx, lead.stageId, lead.id), null);
      await leadsRepo.updateLeadState(
        tx,
        lead.id,
        { status: "open", closedReason: null, closedAt: null, rank, stageEnteredAt: now },
        now,
      );
      await this.statusHistory(tx, actor, lead.id, "disqualified", "open", input.note ?? null, now);
      const card = await requireCard(tx, lead.id);
      await log.append(board.id, { type: "lead.created", actor: toEventActor(actor), lead: card });
      await rebuildLeads(tx, [lead.id], now);
      return card;
    });
  }

  private async statusHistory(
    tx: Tx,
    actor: Actor,
    leadId: string,
    from: LeadStatus,
    to: LeadStatus,
    note: string | null,
    now: Date,
  ): Promise<void> {
    await leadsRepo.insertHistory(tx, {
      leadId,
      kind: "status",
      field: "status",
      fromValue: from,
      toValue: to,
      reason: "manual",
      note,
      actorId: actor.id,
      actorName: actor.name,
      at: now,
    });
  }
}
