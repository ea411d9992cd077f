/**
 * Writing a batch's valid rows: all at once (import-batch.ts) in a savepoint, or, when that
 * fails on a row's data, again one row at a time through intake, each row in its own
 * savepoint, so that only the bad row is rejected and reported.
 */
import { randomUUID } from "node:crypto";
import { matchKey, type MatchValues } from "../../shared/domain/matching.ts";
import type { ImportRowValues } from "../../shared/schemas/imports.ts";
import type { Tx } from "../db/client.ts";
import * as leadsRepo from "../repositories/leads.ts";
import * as matching from "../repositories/matching.ts";
import type { EventLog } from "./event-log.ts";
import { writeRows, type BatchContext, type RowResult } from "./import-batch.ts";
import { rowErrorMessage, type RowOutcome } from "./import-rows.ts";
import { keysFor, type IntakeService } from "./intake-service.ts";
import type { LeadService } from "./lead-service.ts";

export type RowWriter = (tx: Tx, log: EventLog, job: BatchContext, values: ImportRowValues, now: Date) => Promise<RowResult>;

const yieldEvery = 10;

/** The valid rows among `outcomes`; a row rejected while writing is added to `errors`. */
export async function writeBatchRows(
  tx: Tx,
  log: EventLog,
  job: BatchContext,
  outcomes: RowOutcome[],
  errors: Array<{ row: number; error: string }>,
  now: Date,
  writeRow: RowWriter,
): Promise<{ created: number; updated: number }> {
  const valid = outcomes.filter((o): o is { row: number; values: ImportRowValues } => "values" in o);
  const count = (results: RowResult[]) => ({
    created: results.filter((r) => r === "created").length,
    updated: results.filter((r) => r === "updated").length,
  });
  if (valid.length === 0) return { created: 0, updated: 0 };
  const mark = log.appended.length;
  try {
    return count(await tx.transaction((sp) => writeRows(sp, log, job, valid.map((o) => o.values), now)));
  } catch (err) {
    log.appended.splice(mark);
    if (rowErrorMessage(err) === undefined) throw err;
  }
  const results: RowResult[] = [];
  for (const outcome of valid) {
    // PGlite runs queries on this thread and settles them as microtasks: without a
    // turn of the event loop now and then, a batch would starve every other request.
    if (results.length % yieldEvery === yieldEvery - 1) await new Promise((resolve) => setImmediate(resolve));
    const at = log.appended.length;
    try {
      results.push(await tx.transaction((sp) => writeRow(sp, log, job, outcome.values, now)));
    } catch (err) {
      // The savepoint rolled the row back; its events must not be announced either.
      log.appended.splice(at);
      const message = rowErrorMessage(err);
      if (message === undefined) throw err;
      errors.push({ row: outcome.row, error: message });
    }
  }
  return count(results);
}

/** One row through intake, as every other channel takes a submission. */
export function rowWriter(intake: IntakeService, leads: LeadService): RowWriter {
  return async (tx, log, job, values, now) => {
    if (job.kind === "contacts") {
      const contact = await intake.upsertContact(tx, job.strategies, values, "import", now);
      return contact.created ? "created" : "updated";
    }
    if (!values.email && !values.firstName && !values.lastName) return accountLead(intake, leads, tx, log, job, values, now);
    const result = await intake.ingestInTransaction(tx, log, job.actor, job.channel, values, job.strategies, now);
    return result.created.lead ? "created" : "updated";
  };
}

/**
 * A row naming only a company: a lead on the account, with no contact. It is matched
 * like other leads, through the lead strategy's key, when that key can be computed from
 * a company, a topic and a campaign (e.g. "company + topic"); else each row is a new lead.
 */
async function accountLead(
  intake: IntakeService,
  leads: LeadService,
  tx: Tx,
  log: EventLog,
  job: BatchContext,
  values: ImportRowValues,
  now: Date,
): Promise<RowResult> {
  const accountId = await intake.findOrCreateAccount(tx, values.company!, values.country ?? null, now);
  const topic = values.topic ?? job.channel.defaultTopic;
  const campaign = values.campaign ?? job.channel.campaign ?? null;
  const keyValues: MatchValues = { company: values.company, topic, campaign };
  const strategy = job.strategies.lead;
  const key = matchKey(strategy.fields, keyValues);
  const id = randomUUID();
  if (key) {
    const owner = await matching.claimKey(tx, strategy.id, key, id);
    if (owner !== id) {
      const existing = await leadsRepo.lockLead(tx, owner);
      if (existing && existing.status === "open") return "updated";
      // A converted or disqualified lead does not absorb new interest: a new lead takes its key.
      await matching.repointKey(tx, strategy.id, key, id);
    }
  }
  await leads.createInTransaction(tx, log, job.actor, { topic, accountId, contactId: null, campaign }, { id, source: "import" }, now);
  await matching.registerKeys(tx, keysFor(job.strategies.allLead, keyValues, id));
  return "created";
}

/**
 * Writes one batch at a time while the caller prepares the next: `start` waits for the write
 * before it. A failed write is kept for `settle` to throw, and `onFailure` is told at once
 * (to stop reading rather than wait for the next batch).
 */
export class WriteAhead {
  private writing: Promise<void> | undefined;
  private failure: { err: unknown } | undefined;

  constructor(private readonly onFailure: () => void) {}

  /** The error of a write that failed, if one did. */
  get failed(): { err: unknown } | undefined {
    return this.failure;
  }

  async start(write: () => Promise<void>): Promise<void> {
    await this.settle();
    this.writing = write().catch((err: unknown) => {
      this.failure = { err };
      this.onFailure();
    });
  }

  /** Waits for the write in flight; throws if a write failed. */
  async settle(): Promise<void> {
    await this.drain();
    if (this.failure) throw this.failure.err;
  }

  /** Waits for the write in flight, whatever its outcome. */
  async drain(): Promise<void> {
    await this.writing;
    this.writing = undefined;
  }
}
