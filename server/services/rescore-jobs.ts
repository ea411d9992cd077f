import { and, asc, eq, gt, inArray, ne } from "drizzle-orm";
import type { Logger } from "pino";
import { leads, scoreCounters } from "../../drizzle/schema.ts";
import { modelApplies } from "../../shared/domain/scoring.ts";
import type { Db } from "../db/client.ts";
import * as scoring from "../repositories/scoring.ts";
import { withBoardEvents, type CommittedEventSink } from "./event-log.ts";
import { scoreLeads } from "./lead-scorer.ts";

export interface RescoreOptions {
  logger: Logger;
  now: () => Date;
  /** Leads per step; each step is two short transactions, so the board stays live. */
  batchSize?: number;
  onProgress?: (model: scoring.ModelRow) => void;
}

/**
 * Rescoring every lead after a model is published, edited or taken back to draft. Leads are
 * taken in id order; the model's cursor says how far it got, so live scoring leaves the
 * leads beyond it alone, and a restart resumes where it stopped.
 *
 * Each step rebuilds counters under exclusive scope locks in one transaction (which takes no
 * board lock), then scores in another (board locks, never scope locks): see docs/scoring.md
 * for the lock order that keeps scoring out of deadlocks.
 */
export class RescoreJobs {
  private readonly loops = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private stopped = false;
  private readonly batchSize: number;

  constructor(
    private readonly db: Db,
    private readonly sink: CommittedEventSink,
    private readonly options: RescoreOptions,
  ) {
    this.batchSize = options.batchSize ?? 200;
  }

  /** Starts (or restarts from its cursor) the rescore of a model whose row says it is running. */
  start(modelId: string): void {
    if (this.stopped) return;
    if (this.loops.has(modelId)) {
      this.again.add(modelId);
      return;
    }
    const loop = this.run(modelId)
      .catch(async (err: unknown) => {
        this.options.logger.error({ err, modelId }, "rescore failed");
        const model = await scoring
          .updateModel(this.db, modelId, { rescoreStatus: "failed", rescoreError: "The rescore stopped on an internal error; save the model again to retry.", rescoreFinishedAt: this.options.now() })
          .catch(() => undefined);
        if (model) this.options.onProgress?.(model);
      })
      .finally(() => {
        this.loops.delete(modelId);
        if (this.again.delete(modelId)) this.start(modelId);
      });
    this.loops.set(modelId, loop);
  }

  /**
   * Every rescore that is running and not looping on this node carries on from its cursor: after
   * a restart, and (on the rescore lease's holder) for rescores whose node died. Steps lock the
   * model row, so a model looping on two nodes at once is rescored once.
   */
  async resume(): Promise<void> {
    for (const model of await scoring.runningRescores(this.db)) if (!this.loops.has(model.id)) this.start(model.id);
  }

  /** Waits for running rescores to finish (tests), or stops them after their current step. */
  async idle(): Promise<void> {
    while (this.loops.size > 0) await Promise.all([...this.loops.values()]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.loops.values()]);
  }

  private async run(modelId: string): Promise<void> {
    while (!this.stopped) {
      const step = await this.step(modelId);
      if (step === "done") return;
    }
  }

  private async step(modelId: string): Promise<"more" | "done"> {
    const now = this.options.now();
    const rebuilt = await this.db.transaction(async (tx) => {
      const model = await scoring.lockModel(tx, modelId);
      if (!model || model.rescoreStatus !== "running") return undefined;
      const batch = await tx
        .select({ id: leads.id })
        .from(leads)
        .where(and(eq(leads.status, "open"), model.rescoreCursor ? gt(leads.id, model.rescoreCursor) : undefined))
        .orderBy(asc(leads.id))
        .limit(this.batchSize);
      const ids = batch.map((r) => r.id);
      if (ids.length === 0) {
        // Closed leads keep no counters under this model; back in draft, no lead keeps any.
        await tx
          .delete(scoreCounters)
          .where(
            and(
              eq(scoreCounters.modelId, model.id),
              model.rescoreMode === "clear" ? undefined : inArray(scoreCounters.leadId, tx.select({ id: leads.id }).from(leads).where(ne(leads.status, "open"))),
            ),
          );
        const finished = await scoring.updateModel(tx, model.id, { rescoreStatus: "done", rescoreFinishedAt: now, rescoreProcessed: model.rescoreTotal });
        return { model: finished, ids };
      }
      if (model.rescoreMode === "score" && model.status === "live") {
        // Lead rows before scope locks, the order recording and lead edits take them in.
        await scoring.lockLeadsKeyShare(tx, ids);
        const scopes = await scoring.scoringLeads(tx, ids);
        await scoring.lockScopes(tx, scopes.flatMap((l) => scoring.scopeKeysOfLead(l)), "exclusive");
        const current = await scoring.scoringLeads(tx, ids);
        const counted = current.filter((l) => l.active && modelApplies(model.target, l)).map((l) => l.id);
        await scoring.rebuildCounters(tx, model, ids, counted, now);
      } else {
        await scoring.deleteCounters(tx, ids, model.id);
      }
      const updated = await scoring.updateModel(tx, model.id, {
        rescoreCursor: ids[ids.length - 1]!,
        rescoreProcessed: model.rescoreProcessed + ids.length,
        // Leads created while it runs are rescored too: the total grows rather than the bar overflowing.
        rescoreTotal: Math.max(model.rescoreTotal, model.rescoreProcessed + ids.length),
      });
      return { model: updated, ids };
    });
    if (!rebuilt) return "done";
    if (rebuilt.ids.length > 0) {
      await withBoardEvents(this.db, this.sink, now, (tx, log) => scoreLeads(tx, log, rebuilt.ids, now));
    }
    this.options.onProgress?.(rebuilt.model);
    return rebuilt.ids.length === 0 ? "done" : "more";
  }
}
