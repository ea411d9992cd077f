import type { BoardStage } from "../../shared/board.ts";
import { ranksAfter } from "../../shared/domain/ranks.ts";
import { defaultStages } from "../../shared/domain/stages.ts";
import { DomainError } from "../../shared/errors.ts";
import type {
  ProcessCreateInput,
  ProcessUpdateInput,
  ProcessView,
  StageEditInput,
  StageInput,
} from "../../shared/schemas/processes.ts";
import type { Db, Executor, Tx } from "../db/client.ts";
import * as boardsRepo from "../repositories/boards.ts";
import * as leadsRepo from "../repositories/leads.ts";
import * as processesRepo from "../repositories/processes.ts";
import { requirePermission, toEventActor, type Actor } from "./actor.ts";
import { withBoardEvents, type CommittedEventSink, type EventLog } from "./event-log.ts";
import { requireCard } from "./lead-closing-service.ts";

type Details = Array<{ field: string; message: string }>;

/**
 * A stage entry as written. An entry is the whole desired stage, as in creation: omitted
 * settings take their defaults, so an editor that drops the last field sends no `fields`.
 */
function stageValues(entry: StageInput, position: number): processesRepo.StageValues {
  return {
    key: entry.key,
    name: entry.name,
    position,
    entryRequirements: entry.entryRequirements ?? [],
    fields: entry.fields ?? [],
    gateFlag: entry.gateFlag ?? null,
    salesReadyJump: entry.salesReadyJump ?? false,
    timeLimits: entry.timeLimits ?? null,
  };
}

/** What an edit of the stage list does: checked against the current stages before anything is written. */
interface StagePlan {
  entries: StageEditInput[];
  removed: BoardStage[];
}

function invalid(message: string, details: Details): never {
  throw new DomainError("INVALID_INPUT", message, details);
}

/**
 * Business processes: list, create, and edit, where an edit of the stage list moves the
 * leads of removed stages and ends with one `stages.changed` on the process's board.
 */
export class ProcessService {
  constructor(
    private readonly db: Db,
    private readonly sink: CommittedEventSink,
  ) {}

  async list(actor: Actor): Promise<ProcessView[]> {
    requirePermission(actor, "board.view");
    const rows = await processesRepo.listProcesses(this.db);
    return Promise.all(rows.map((row) => this.view(this.db, row)));
  }

  async get(actor: Actor, processId: string): Promise<ProcessView> {
    requirePermission(actor, "board.view");
    const row = await processesRepo.findProcess(this.db, processId);
    if (!row) throw new DomainError("NOT_FOUND", "No such process");
    return this.view(this.db, row);
  }

  /** A new process with its stages at positions 0..n-1 and its (empty) board. */
  async create(actor: Actor, input: ProcessCreateInput, now: Date): Promise<ProcessView> {
    requirePermission(actor, "process.manage");
    return this.db.transaction(async (tx) => {
      const { processId } = await processesRepo.insertProcess(tx, {
        name: input.name,
        ...(input.conversionRequirements ? { conversionRequirements: input.conversionRequirements } : {}),
        now,
      });
      await processesRepo.insertStages(
        tx,
        processId,
        input.stages.map((s, i) => stageValues(s, i)),
      );
      const row = await processesRepo.findProcess(tx, processId);
      return this.view(tx, row!);
    });
  }

  /**
   * One transaction. Locks, in this order: the process row (edits of one process take
   * turns), the leads of removed stages, then the board, the same lead-before-board order
   * as moves, so an edit and a move never wait on each other in a cycle.
   */
  async update(actor: Actor, processId: string, input: ProcessUpdateInput, now: Date): Promise<ProcessView> {
    requirePermission(actor, "process.manage");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const process = await processesRepo.lockProcess(tx, processId);
      if (!process) throw new DomainError("NOT_FOUND", "No such process");
      if (process.version !== input.expectedVersion) {
        throw new DomainError("CONFLICT", "Someone changed this process first; showing its current state", {
          expectedVersion: input.expectedVersion,
          currentVersion: process.version,
          process: await this.view(tx, process),
        });
      }
      const current = await boardsRepo.listStages(tx, processId);
      const plan = input.stages ? this.plan(process.isDefault, current, input.stages) : null;
      const moveTo = input.moveLeadsTo ?? {};
      const removedStageIds = plan ? plan.removed.map((s) => s.id) : [];
      this.checkMapping(plan, moveTo);
      const listed = await processesRepo.listLeadsInStages(tx, removedStageIds);
      this.requireMappingForLeads(plan, moveTo, listed);
      await processesRepo.lockLeads(
        tx,
        listed.map((l) => l.id),
      );
      await boardsRepo.lockBoard(tx, process.boardId);
      // With the board locked nothing more can enter these stages; anything that did before is a retry.
      if ((await processesRepo.countLeadsInStagesExcept(tx, removedStageIds, listed.map((l) => l.id))) > 0) {
        throw new DomainError("CONFLICT", "Leads moved into a removed stage meanwhile; try again");
      }
      if (plan) await this.rewriteStages(tx, log, actor, processId, process.boardId, plan, moveTo, now);
      await processesRepo.updateProcess(tx, processId, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.conversionRequirements ? { conversionRequirements: input.conversionRequirements } : {}),
        now,
      });
      const updated = await processesRepo.findProcess(tx, processId);
      const view = await this.view(tx, updated!);
      await log.append(process.boardId, {
        type: "stages.changed",
        actor: toEventActor(actor),
        processName: view.name,
        stages: view.stages,
      });
      return view;
    });
  }

  private plan(isDefault: boolean, current: BoardStage[], entries: StageEditInput[]): StagePlan {
    const byId = new Map(current.map((s) => [s.id, s]));
    const details: Details = [];
    entries.forEach((e, i) => {
      if (e.id !== undefined && !byId.has(e.id)) details.push({ field: `stages.${i}.id`, message: "is not a stage of this process" });
    });
    if (details.length > 0) invalid("Some stages are not part of this process", details);
    if (isDefault) {
      const keys = new Set(entries.map((e) => e.key));
      const lost = defaultStages.map((s) => s.key).filter((k) => !keys.has(k));
      if (lost.length > 0) {
        invalid("The default process must keep its contract stages", [
          { field: "stages", message: `must keep the stage keys: ${lost.join(", ")}` },
        ]);
      }
    }
    const keptIds = new Set(entries.flatMap((e) => (e.id ? [e.id] : [])));
    return { entries, removed: current.filter((s) => !keptIds.has(s.id)) };
  }

  /** Every mapping names a removed stage and a stage of the new list. */
  private checkMapping(plan: StagePlan | null, moveTo: Record<string, string>): void {
    const removed = new Set(plan?.removed.map((s) => s.key));
    const targets = new Set(plan?.entries.map((e) => e.key));
    const details: Details = [];
    for (const [from, to] of Object.entries(moveTo)) {
      if (!removed.has(from)) details.push({ field: `moveLeadsTo.${from}`, message: "is not a removed stage" });
      else if (!targets.has(to)) details.push({ field: `moveLeadsTo.${from}`, message: `"${to}" is not a stage of the new list` });
    }
    if (details.length > 0) invalid("Some lead moves do not fit the new stages", details);
  }

  private requireMappingForLeads(
    plan: StagePlan | null,
    moveTo: Record<string, string>,
    listed: Array<{ stageId: string; status: string }>,
  ): void {
    const details: Details = [];
    for (const stage of plan?.removed ?? []) {
      const open = listed.filter((l) => l.stageId === stage.id && l.status === "open").length;
      if (open > 0 && moveTo[stage.key] === undefined) {
        details.push({
          field: `moveLeadsTo.${stage.key}`,
          message: `stage "${stage.key}" still has ${open} open lead${open === 1 ? "" : "s"}: say which stage they move to`,
        });
      }
    }
    if (details.length > 0) invalid("Removed stages still have leads", details);
  }

  /**
   * Writes the new stage list and empties the removed stages. Every stage is first parked
   * at a negative position under a temporary key, so the unique (process, position) and
   * (process, key) indexes hold at every statement whatever the reordering.
   */
  private async rewriteStages(
    tx: Tx,
    log: EventLog,
    actor: Actor,
    processId: string,
    boardId: string,
    plan: StagePlan,
    moveTo: Record<string, string>,
    now: Date,
  ): Promise<void> {
    await processesRepo.parkStages(tx, processId);
    const idByKey = new Map<string, string>();
    const fresh: processesRepo.StageValues[] = [];
    for (const [position, entry] of plan.entries.entries()) {
      const values = stageValues(entry, position);
      if (entry.id !== undefined) {
        await processesRepo.updateStage(tx, entry.id, values);
        idByKey.set(entry.key, entry.id);
      } else {
        fresh.push(values);
      }
    }
    const freshIds = await processesRepo.insertStages(tx, processId, fresh);
    fresh.forEach((v, i) => idByKey.set(v.key, freshIds[i]!));

    const leads = await processesRepo.listLeadsInStages(
      tx,
      plan.removed.map((s) => s.id),
    );
    // Closed leads (off the board) go along too: the stage row they point at is about to go.
    const fallbackKey = plan.entries[0]!.key;
    const moved: Array<{ leadId: string; from: string; to: string }> = [];
    for (const stage of plan.removed) {
      const toKey = moveTo[stage.key] ?? fallbackKey;
      const toId = idByKey.get(toKey)!;
      const inStage = leads.filter((l) => l.stageId === stage.id);
      const open = inStage.filter((l) => l.status === "open");
      const ranks = ranksAfter(await leadsRepo.lastRankInStage(tx, toId), open.length);
      for (const lead of inStage) {
        if (lead.status === "open") {
          const rank = ranks[open.indexOf(lead)]!;
          await leadsRepo.updateLeadPlacement(tx, lead.id, { stageId: toId, rank, stageChanged: true, now });
          moved.push({ leadId: lead.id, from: stage.key, to: toKey });
        } else {
          await leadsRepo.updateLeadState(tx, lead.id, { stageId: toId }, now);
        }
        await leadsRepo.insertHistory(tx, {
          leadId: lead.id,
          fromStageId: stage.id,
          toStageId: toId,
          // The removed stage's row goes, and with it the history's link: keep its key.
          fromValue: stage.key,
          toValue: toKey,
          reason: "manual",
          note: "stage removed",
          actorId: actor.id,
          actorName: actor.name,
          at: now,
        });
      }
    }
    await processesRepo.deleteStages(
      tx,
      plan.removed.map((s) => s.id),
    );
    for (const m of moved) {
      const card = await requireCard(tx, m.leadId);
      await log.append(boardId, { type: "lead.moved", actor: toEventActor(actor), lead: card, fromStage: m.from, toStage: m.to });
    }
  }

  private async view(db: Executor, row: processesRepo.ProcessWithBoard): Promise<ProcessView> {
    return {
      id: row.id,
      name: row.name,
      isDefault: row.isDefault,
      conversionRequirements: row.conversionRequirements,
      version: row.version,
      boardId: row.boardId,
      stages: await boardsRepo.listStages(db, row.id),
      updatedAt: new Date(row.updatedAt).toISOString(),
    };
  }
}
