import type { BoardStage, LeadCard } from "../../shared/board.ts";
import { rankBetween } from "../../shared/domain/ranks.ts";
import {
  checkTransition,
  flagProperty,
  requirementLabels,
  stageAfterFlag,
  type LeadFlag,
  type StageRule,
} from "../../shared/domain/stages.ts";
import { gatesRefused } from "../../shared/domain/role-rules.ts";
import { DomainError } from "../../shared/errors.ts";
import {
  stageValueProblems,
  type AssignInput,
  type ConvertInput,
  type DisqualifyInput,
  type Opportunity,
  type ReopenInput,
  type SetFlagInput,
  type StageFieldsInput,
  type SwitchProcessInput,
} from "../../shared/schemas/lifecycle.ts";
import type { Db } from "../db/client.ts";
import * as boardsRepo from "../repositories/boards.ts";
import * as leadsRepo from "../repositories/leads.ts";
import { findUsersByIds } from "../repositories/users.ts";
import * as processesRepo from "../repositories/processes.ts";
import { requirePermission, toEventActor, type Actor } from "./actor.ts";
import { withBoardEvents, type CommittedEventSink } from "./event-log.ts";
import { requireGates, requireStageWork } from "./lead-access.ts";
import { LeadClosingService, lockLeadForChange, requireCard } from "./lead-closing-service.ts";

/** Where a lead enters another process from: no gate of the old process carries over. */
const outsideProcess: StageRule = {
  id: "",
  key: "",
  name: "",
  position: -1,
  entryRequirements: [],
  gateFlag: null,
  salesReadyJump: false,
};

/**
 * What happens to a lead on the board besides drags: gate checkboxes (which may advance
 * it), its owner, its stage fields, a switch of process, and closing (delegated).
 * Each command is one transaction that ends with exactly one event per board it touches.
 */
export class LifecycleService {
  private readonly closing: LeadClosingService;

  constructor(
    private readonly db: Db,
    private readonly sink: CommittedEventSink,
  ) {
    this.closing = new LeadClosingService(db, sink);
  }

  convert(actor: Actor, leadId: string, input: ConvertInput, now: Date): Promise<{ lead: LeadCard; opportunity: Opportunity }> {
    return this.closing.convert(actor, leadId, input, now);
  }

  disqualify(actor: Actor, leadId: string, input: DisqualifyInput, now: Date): Promise<LeadCard> {
    return this.closing.disqualify(actor, leadId, input, now);
  }

  reopen(actor: Actor, leadId: string, input: ReopenInput, now: Date): Promise<LeadCard> {
    return this.closing.reopen(actor, leadId, input, now);
  }

  /**
   * Ticks or unticks a gate checkbox. Ticking a stage's gate (or sales-ready where the
   * stage jumps) advances the lead in the same transaction: one `lead.moved`, no
   * separate update. Setting a flag to the value it has changes nothing.
   * Either way it takes the flag's own gate action, and a stage-bound role (telemarketers)
   * only works gates in or into its stages.
   */
  async setFlag(actor: Actor, leadId: string, input: SetFlagInput, now: Date): Promise<LeadCard> {
    requirePermission(actor, "lead.edit");
    requireGates(actor, [input.flag]);
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const { lead, board, stages, current } = await lockLeadForChange(tx, actor, leadId, input.expectedVersion);
      // Judged by where the gate leads, not where this lead can go today: ticking "ready
      // for teleprospecting" pulls a lead towards Teleprospecting acceptance even while a
      // missing parent keeps it where it is.
      requireStageWork(actor, current, stageAfterFlag(stages, current, input.flag));
      const property = flagProperty[input.flag];
      if (lead[property] === input.value) return requireCard(tx, lead.id);
      await leadsRepo.setFlag(tx, lead.id, input.flag, input.value);
      await leadsRepo.insertHistory(tx, {
        leadId: lead.id,
        kind: "flag",
        field: input.flag,
        fromValue: lead[property],
        toValue: input.value,
        reason: "manual",
        note: input.note ?? null,
        actorId: actor.id,
        actorName: actor.name,
        at: now,
      });
      const advance = input.value ? this.gateAdvance(actor, { ...lead, [property]: true }, stages, current, input.flag) : null;
      if (!advance) {
        await leadsRepo.updateLeadState(tx, lead.id, {}, now);
        const card = await requireCard(tx, lead.id);
        const flagsSet = input.value ? { flagsSet: [input.flag] } : {};
        await log.append(board.id, { type: "lead.updated", actor: toEventActor(actor), lead: card, ...flagsSet });
        return card;
      }
      // The target may require a flag its entry provides (a gate passed on the way): tick it, as a drag would.
      for (const flag of advance.ticks) {
        await leadsRepo.setFlag(tx, lead.id, flag, true);
        await leadsRepo.insertHistory(tx, {
          leadId: lead.id,
          kind: "flag",
          field: flag,
          fromValue: false,
          toValue: true,
          reason: "gate",
          note: `set by advancing to ${advance.to.name}`,
          actorId: actor.id,
          actorName: actor.name,
          at: now,
        });
      }
      // Appends to a column are serialised by the board lock, as in lead creation.
      await boardsRepo.lockBoard(tx, board.id);
      const rank = rankBetween(await leadsRepo.lastRankInStage(tx, advance.to.id, lead.id), null);
      await leadsRepo.updateLeadPlacement(tx, lead.id, { stageId: advance.to.id, rank, stageChanged: true, now });
      await leadsRepo.insertHistory(tx, {
        leadId: lead.id,
        fromStageId: current.id,
        toStageId: advance.to.id,
        reason: "gate",
        note: `${requirementLabels[input.flag]} ticked`,
        actorId: actor.id,
        actorName: actor.name,
        at: now,
      });
      const card = await requireCard(tx, lead.id);
      await log.append(board.id, {
        type: "lead.moved",
        actor: toEventActor(actor),
        lead: card,
        fromStage: current.key,
        toStage: advance.to.key,
        flagsSet: [input.flag, ...advance.ticks.filter((f) => f !== input.flag)],
      });
      return card;
    });
  }

  /**
   * The stage a freshly ticked flag takes the lead to, if any. A target whose other entry
   * requirements the lead does not meet (say, a lead without a parent that was dragged on
   * with an override) keeps the lead where it is: the tick itself still counts. So does a
   * target whose entry would tick another gate this actor may not tick: the lead waits
   * there for someone who may (a drag would be refused; the tick is still theirs to make).
   */
  private gateAdvance(
    actor: Actor,
    facts: leadsRepo.LeadRow,
    stages: BoardStage[],
    current: BoardStage,
    flag: LeadFlag,
  ): { to: BoardStage; ticks: LeadFlag[] } | null {
    const target = stageAfterFlag(stages, current, flag);
    if (!target) return null;
    const to = stages.find((s) => s.id === target.id)!;
    const check = checkTransition(facts, current, to);
    if (!check.allowed || gatesRefused(actor, check.ticks).length > 0) return null;
    return { to, ticks: check.ticks };
  }

  async assign(actor: Actor, leadId: string, input: AssignInput, now: Date): Promise<LeadCard> {
    requirePermission(actor, "lead.assign");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const { lead, board } = await lockLeadForChange(tx, actor, leadId, input.expectedVersion);
      let ownerName = "unassigned";
      if (input.ownerId !== null) {
        const [owner] = await findUsersByIds(tx, [input.ownerId]);
        if (!owner?.active) {
          throw new DomainError("INVALID_INPUT", "The owner must be an active user", [
            { field: "ownerId", message: owner ? "is not an active user" : "is not a user" },
          ]);
        }
        ownerName = owner.name;
      }
      if (lead.ownerId === input.ownerId) return requireCard(tx, lead.id);
      await leadsRepo.updateLeadState(tx, lead.id, { ownerId: input.ownerId }, now);
      await leadsRepo.insertHistory(tx, {
        leadId: lead.id,
        kind: "assignment",
        field: "ownerId",
        fromValue: lead.ownerId,
        toValue: input.ownerId,
        reason: "manual",
        note: ownerName,
        actorId: actor.id,
        actorName: actor.name,
        at: now,
      });
      const card = await requireCard(tx, lead.id);
      await log.append(board.id, { type: "lead.updated", actor: toEventActor(actor), lead: card });
      return card;
    });
  }

  /**
   * Records values in a stage's typed fields (stored under stage key, then field key;
   * null clears). Every bad field is reported at once; values equal to the stored ones
   * are not changes.
   */
  async updateStageFields(actor: Actor, leadId: string, input: StageFieldsInput, now: Date): Promise<LeadCard> {
    requirePermission(actor, "lead.edit");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const { lead, board, stages, current } = await lockLeadForChange(tx, actor, leadId, input.expectedVersion);
      const stage = input.stage === undefined ? current : stages.find((s) => s.key === input.stage);
      if (!stage) {
        throw new DomainError("INVALID_INPUT", `No stage "${input.stage}" in this process`, [
          { field: "stage", message: `must be one of: ${stages.map((s) => s.key).join(", ")}` },
        ]);
      }
      const problems = stageValueProblems(stage.fields, input.values);
      const bad = new Set(problems.map((p) => p.field));
      const userValues = stage.fields
        .filter((f) => f.type === "user" && !bad.has(`values.${f.key}`) && typeof input.values[f.key] === "string")
        .map((f) => ({ key: f.key, id: input.values[f.key] as string }));
      const known = new Set((await findUsersByIds(tx, userValues.map((u) => u.id))).map((u) => u.id));
      for (const u of userValues) {
        if (!known.has(u.id)) problems.push({ field: `values.${u.key}`, message: "is not a user" });
      }
      if (problems.length > 0) throw new DomainError("INVALID_INPUT", "Some stage fields are not valid", problems);

      const stored = lead.stageData[stage.key] ?? {};
      const changed = Object.entries(input.values).filter(([key, value]) => (stored[key] ?? null) !== value);
      if (changed.length === 0) return requireCard(tx, lead.id);
      const next: Record<string, unknown> = { ...stored };
      for (const [key, value] of changed) {
        if (value === null) delete next[key];
        else next[key] = value;
      }
      await leadsRepo.updateLeadState(tx, lead.id, { stageData: { ...lead.stageData, [stage.key]: next } }, now);
      for (const [key, value] of changed) {
        await leadsRepo.insertHistory(tx, {
          leadId: lead.id,
          kind: "field",
          field: `${stage.key}.${key}`,
          fromValue: stored[key] ?? null,
          toValue: value,
          reason: "manual",
          actorId: actor.id,
          actorName: actor.name,
          at: now,
        });
      }
      const card = await requireCard(tx, lead.id);
      await log.append(board.id, { type: "lead.updated", actor: toEventActor(actor), lead: card });
      return card;
    });
  }

  /**
   * Moves a lead to another process: it leaves one board (`lead.removed`) and joins the
   * other at the bottom of the target stage (`lead.created`). The target stage's entry
   * requirements must hold, as for a lead entering it from outside.
   */
  async switchProcess(actor: Actor, leadId: string, input: SwitchProcessInput, now: Date): Promise<LeadCard> {
    requirePermission(actor, "lead.move");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const { lead, board, current } = await lockLeadForChange(tx, actor, leadId, input.expectedVersion);
      if (input.processId === lead.processId) {
        throw new DomainError("INVALID_INPUT", "The lead is already in this process", [
          { field: "processId", message: "is the lead's current process" },
        ]);
      }
      const target = await boardsRepo.findBoardByProcess(tx, input.processId);
      if (!target) {
        throw new DomainError("INVALID_INPUT", "No such process", [{ field: "processId", message: "not found" }]);
      }
      // Both boards, in id order, so two opposite switches cannot deadlock. Stage edits hold
      // the board lock too, so the target's stages read below stay valid until commit.
      for (const id of [board.id, target.id].sort()) await boardsRepo.lockBoard(tx, id);
      const targetStages = await boardsRepo.listStages(tx, target.processId);
      const to = input.toStage === undefined ? targetStages[0] : targetStages.find((s) => s.key === input.toStage);
      if (!to) {
        throw new DomainError("INVALID_INPUT", `No stage "${input.toStage}" in that process`, [
          { field: "toStage", message: `must be one of: ${targetStages.map((s) => s.key).join(", ")}` },
        ]);
      }
      // Entering another board is a move like any other for a stage-bound role.
      requireStageWork(actor, current, to);
      const check = checkTransition(lead, outsideProcess, to);
      if (!check.allowed) {
        throw new DomainError("ILLEGAL_TRANSITION", check.message, { stage: to.key, missing: check.missing });
      }
      const rank = rankBetween(await leadsRepo.lastRankInStage(tx, to.id, lead.id), null);
      await leadsRepo.updateLeadState(
        tx,
        lead.id,
        { processId: target.processId, stageId: to.id, rank, stageEnteredAt: now },
        now,
      );
      await leadsRepo.insertHistory(tx, {
        leadId: lead.id,
        kind: "process",
        field: "processId",
        fromStageId: current.id,
        toStageId: to.id,
        fromValue: lead.processId,
        toValue: target.processId,
        reason: "manual",
        note: `moved from "${board.processName}" to "${target.processName}"`,
        actorId: actor.id,
        actorName: actor.name,
        at: now,
      });
      const card = await requireCard(tx, lead.id);
      const eventActor = toEventActor(actor);
      await log.append(board.id, { type: "lead.removed", reason: "process_changed", actor: eventActor, lead: card });
      await log.append(target.id, { type: "lead.created", actor: eventActor, lead: card });
      return card;
    });
  }
}
