import { pipeline, type Readable } from "node:stream";
import type { Logger } from "pino";
import { mapColumns, type ImportField, type ImportKind } from "../../shared/domain/csv-columns.ts";
import { DomainError } from "../../shared/errors.ts";
import type { ImportView } from "../../shared/schemas/imports.ts";
import type { Db } from "../db/client.ts";
import * as importsRepo from "../repositories/imports.ts";
import type { ImportRow } from "../repositories/imports.ts";
import { requirePermission, type Actor } from "./actor.ts";
import { withBoardEvents, type CommittedEventSink } from "./event-log.ts";
import { ByteLimit, CsvFramerStream, decodeRecords, type FramedRecord } from "./import-csv.ts";
import { importHeartbeat, listedErrorsCap, storedErrors, toImportView } from "./import-report.ts";
import { decodeBatch, isTransient, type RowOutcome } from "./import-rows.ts";
import { rowWriter, writeBatchRows, WriteAhead, type RowWriter } from "./import-write.ts";
import type { IntakeChannel, IntakeService, IntakeStrategies } from "./intake-service.ts";
import type { LeadService } from "./lead-service.ts";

export interface ImportServiceOptions {
  logger?: Logger;
  /** Called after each committed batch and when an import ends (wire it to the user's socket). */
  onProgress?: (row: ImportRow) => void;
  batchSize?: number;
  maxBytes?: number;
  maxRows?: number;
  maxRowChars?: number;
  /** How often running imports renew their heartbeat (importHeartbeat.everyMs). */
  heartbeatMs?: number;
}

export interface ImportRequest {
  kind: ImportKind;
  map?: Record<string, string> | undefined;
  fileName?: string | undefined;
  contactStrategyId?: string | undefined;
  leadStrategyId?: string | undefined;
  campaign?: string | undefined;
}

export interface ImportHooks {
  /**
   * The import will read no more of its input (it passed the size limit): close the
   * connection. By default the input stream is destroyed.
   */
  cutOff?: () => void;
}

export const importLimits = { batchSize: 500, maxBytes: 50 * 1024 * 1024, maxRows: 200_000, maxRowChars: 64 * 1024 };
export { failInterruptedImports, failStaleImports, importHeartbeat, toImportView } from "./import-report.ts";

const defaultTopic = "Imported lead";
const batchAttempts = 3;

class Stopped extends Error {}

/** A batch decoded and checked, waiting for its transaction: `size` rows read (blank ones too), `total` read from the file by then. */
type PreparedBatch = { outcomes: RowOutcome[]; size: number; total: number; final: boolean };

interface Job {
  id: string;
  kind: ImportKind;
  actor: Actor;
  strategies: IntakeStrategies;
  channel: IntakeChannel;
  columns: Array<ImportField | null>;
  delimiter: string;
  records: AsyncIterator<FramedRecord>;
  input: Readable;
  cutOff: () => void;
  framer: CsvFramerStream;
  clock: () => Date;
  /** Rows read from the file so far. */
  seen: number;
  committed: { processed: number; created: number; updated: number };
  errors: Array<{ row: number; error: string }>;
  errorsNotListed: number;
  stopReason?: string;
  done?: Promise<void>;
}

/**
 * CSV imports of contacts or leads. The file streams through (never held whole), rows go
 * through intake like every other channel, a batch is one transaction with its progress,
 * written with a fixed number of statements (import-batch.ts), and a bad row is rolled back
 * to its own savepoint without taking the batch with it (import-write.ts).
 */
export class ImportService {
  private readonly jobs = new Map<string, Job>();
  private readonly limits: typeof importLimits;
  private readonly writeRow: RowWriter;
  private heartbeat: NodeJS.Timeout | undefined;
  private beating = false;

  constructor(
    private readonly db: Db,
    private readonly sink: CommittedEventSink,
    private readonly intake: IntakeService,
    private readonly leads: LeadService,
    private readonly options: ImportServiceOptions = {},
  ) {
    this.writeRow = rowWriter(intake, leads);
    this.limits = { ...importLimits };
    for (const key of Object.keys(importLimits) as Array<keyof typeof importLimits>) {
      if (options[key]) this.limits[key] = options[key];
    }
  }

  get maxBytes(): number {
    return this.limits.maxBytes;
  }

  authorize(actor: Actor): void {
    requirePermission(actor, "import.run");
  }

  /**
   * Reads the header, checks it, records the import and returns its id; the rows keep
   * streaming in the background. A bad header throws and writes nothing; `input` is then
   * left unread for the caller to drain or close.
   */
  async start(
    actor: Actor,
    input: Readable,
    request: ImportRequest,
    clock: () => Date,
    hooks: ImportHooks = {},
  ): Promise<{ importId: string }> {
    this.authorize(actor);
    const strategies = await this.intake.strategies({
      contactStrategyId: request.contactStrategyId ?? null,
      leadStrategyId: request.leadStrategyId ?? null,
    });
    const limiter = new ByteLimit(this.limits.maxBytes);
    const framer = new CsvFramerStream(this.limits.maxRowChars);
    // Not pipeline(input, ...): that would destroy the request on a bad header, and with it the 400 answer.
    input.pipe(limiter);
    // However the input breaks (a reset, a hang-up, a close before its end), the upload was interrupted.
    const interrupted = (err?: Error) =>
      limiter.destroy(err instanceof DomainError ? err : new DomainError("INVALID_INPUT", "The upload was interrupted"));
    input.once("error", interrupted);
    input.once("close", () => {
      if (!input.readableEnded) interrupted();
    });
    const cutOff = hooks.cutOff ?? (() => input.destroy());
    pipeline(limiter, framer, (err) => {
      // Past the size limit the client is still sending: cut it off.
      if (err instanceof DomainError && err.code === "PAYLOAD_TOO_LARGE") cutOff();
    });
    const records = framer[Symbol.asyncIterator]() as AsyncIterator<FramedRecord>;
    const abandon = () => {
      input.unpipe(limiter);
      framer.destroy();
    };

    let header: FramedRecord;
    try {
      const first = await records.next();
      if (first.done) throw new DomainError("INVALID_INPUT", "The file is empty: it needs a header row naming the columns");
      header = first.value;
    } catch (err) {
      abandon();
      throw err;
    }
    const [decoded] = "error" in header ? [header] : decodeRecords([header], framer.framer.delimiter);
    if (!decoded || "error" in decoded) {
      abandon();
      throw new DomainError("INVALID_INPUT", `The header row is not valid CSV: ${decoded?.error ?? "it is empty"}`);
    }
    const { columns, mapping, problems } = mapColumns(decoded.fields, request.kind, request.map);
    if (problems.length > 0) {
      abandon();
      throw new DomainError("INVALID_INPUT", "The header row cannot be imported", problems);
    }

    const row = await importsRepo.insertImport(this.db, {
      kind: request.kind,
      fileName: request.fileName ?? null,
      mapping,
      contactStrategyId: strategies.contact.id,
      leadStrategyId: request.kind === "leads" ? strategies.lead.id : null,
      createdBy: actor.id,
      createdAt: clock(),
    });
    const job: Job = {
      id: row.id,
      kind: request.kind,
      actor,
      strategies,
      channel: { source: "import", defaultTopic, campaign: request.campaign ?? null },
      columns,
      delimiter: framer.framer.delimiter,
      records,
      input,
      cutOff,
      framer,
      clock,
      seen: 0,
      committed: { processed: 0, created: 0, updated: 0 },
      errors: [],
      errorsNotListed: 0,
    };
    this.jobs.set(job.id, job);
    this.heartbeat ??= setInterval(() => void this.beat(), this.options.heartbeatMs ?? importHeartbeat.everyMs).unref();
    job.done = this.run(job).finally(() => {
      this.jobs.delete(job.id);
      if (this.jobs.size === 0) this.stopHeartbeat();
    });
    return { importId: job.id };
  }

  async get(actor: Actor, importId: string): Promise<ImportView> {
    this.authorize(actor);
    const row = await importsRepo.findImport(this.db, importId);
    if (!row) throw new DomainError("NOT_FOUND", "No such import");
    return toImportView(row);
  }

  /** Resolves once the import has ended (at once if it is not running in this process). */
  async settled(importId: string): Promise<void> {
    await this.jobs.get(importId)?.done;
  }

  /**
   * For a clean shutdown, before the database closes: every running import stops after
   * its current batch and is marked failed, as a killed server's would be at next start.
   */
  async stop(): Promise<void> {
    this.stopHeartbeat();
    const running = [...this.jobs.values()];
    for (const job of running) {
      job.stopReason = "the server stopped during the import";
      job.input.unpipe();
      job.input.destroy();
      job.framer.destroy(new Stopped());
    }
    await Promise.all(running.map((job) => job.done));
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /**
   * Tells other nodes this one is still importing (their sweeps fail imports that fall
   * silent). An import no longer running was failed by a sweep that took this node for
   * dead: it stops reading, and its next batch would roll back anyway.
   */
  private async beat(): Promise<void> {
    if (this.beating || this.jobs.size === 0) return;
    this.beating = true;
    try {
      const ids = [...this.jobs.keys()];
      const alive = await importsRepo.renewHeartbeats(this.db, ids);
      for (const id of ids) {
        const job = this.jobs.get(id);
        // Once the file is read, the import ends with its last batch (whose commit fails if it was failed meanwhile).
        if (job && !alive.has(id) && !job.stopReason && !job.framer.readableEnded && !job.framer.destroyed) job.framer.destroy(new Stopped());
      }
    } catch (err) {
      this.options.logger?.warn({ err }, "could not renew the heartbeat of running imports");
    } finally {
      this.beating = false;
    }
  }

  /**
   * Reads the rows and writes them a batch at a time. One batch is written while the next is
   * read and decoded, no more: the input stays paused (backpressure) while a full batch waits
   * for the write before it, so memory holds at most two batches whatever the file's size.
   */
  private async run(job: Job): Promise<void> {
    let batch: FramedRecord[] = [];
    const writes = new WriteAhead(() => {
      if (!job.framer.destroyed) job.framer.destroy(new Stopped());
    });
    const flush = async (final: boolean) => {
      const prepared = this.prepare(job, batch, final);
      batch = [];
      await writes.start(() => this.writeBatch(job, prepared));
    };
    try {
      for (;;) {
        let next: IteratorResult<FramedRecord>;
        try {
          next = await job.records.next();
        } catch (err) {
          await writes.settle();
          // The input failed (size limit, hang-up): the whole rows read before it still count.
          if (!(err instanceof Stopped)) await flush(false);
          await writes.settle();
          throw err;
        }
        if (next.done) break;
        if (job.seen >= this.limits.maxRows) {
          await flush(false);
          await writes.settle();
          throw new DomainError("PAYLOAD_TOO_LARGE", `The file has more than ${this.limits.maxRows} rows`);
        }
        job.seen++;
        batch.push(next.value);
        if (batch.length >= this.limits.batchSize) await flush(false);
      }
      await flush(true);
      await writes.settle();
    } catch (err) {
      // A write still running ends first: its outcome (or its failure) comes before the import's end.
      await writes.drain();
      await this.fail(job, writes.failed ? writes.failed.err : err);
    }
  }

  /**
   * Stops parsing. Whatever the client still sends is read and dropped (up to the size
   * limit), so its upload ends normally instead of hanging on a paused request.
   */
  private discard(job: Job): void {
    void job.records.return?.();
    const { input } = job;
    input.unpipe();
    if (input.readableEnded || input.destroyed) return;
    let bytes = 0;
    input.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > this.limits.maxBytes) job.cutOff();
    });
    input.resume();
  }

  private async fail(job: Job, err: unknown): Promise<void> {
    this.discard(job);
    if (err instanceof Stopped && !job.stopReason) return; // another node marked it failed
    const n = job.committed.processed;
    let failure: string;
    if (job.stopReason) failure = `${job.stopReason}; ${n} rows were imported`;
    else if (err instanceof DomainError) failure = `${err.message}; ${n} rows were imported`;
    else {
      this.options.logger?.error({ err, importId: job.id }, "import failed");
      failure = `the import stopped on an unexpected error; ${n} rows were imported`;
    }
    try {
      const row = await importsRepo.markImportFailed(this.db, job.id, failure, job.clock(), {
        total: job.seen,
        errors: storedErrors(job),
      });
      if (row) this.options.onProgress?.(row);
    } catch (markErr) {
      // The row stays "running" until the next start marks it failed.
      this.options.logger?.error({ err: markErr, importId: job.id }, "could not mark the import failed");
    }
  }

  /** Decodes and checks a batch's rows (CPU only: done while the batch before is being written). */
  private prepare(job: Job, batch: FramedRecord[], final: boolean): PreparedBatch {
    return { outcomes: decodeBatch(batch, job.delimiter, job.columns, job.kind), size: batch.length, total: job.seen, final };
  }

  /** One transaction: the batch's rows (written at once; see import-write.ts) and the import's progress. */
  private async writeBatch(job: Job, prepared: PreparedBatch): Promise<void> {
    const { outcomes, size, total, final } = prepared;
    if (size === 0 && !final) return;
    for (let attempt = 1; ; attempt++) {
      const now = job.clock();
      try {
        const { row, created, updated, pending } = await withBoardEvents(this.db, this.sink, now, async (tx, log) => {
          const errors = outcomes.filter((o): o is { row: number; error: string } => "error" in o);
          const { created, updated } = await writeBatchRows(tx, log, job, outcomes, errors, now, this.writeRow);
          errors.sort((a, b) => a.row - b.row);
          const listed = Math.max(0, Math.min(errors.length, listedErrorsCap - job.errors.length));
          const pending = {
            errors: [...job.errors, ...errors.slice(0, listed)],
            errorsNotListed: job.errorsNotListed + errors.length - listed,
          };
          const row = await importsRepo.recordProgress(tx, job.id, {
            total,
            processed: job.committed.processed + size,
            created: job.committed.created + created,
            updated: job.committed.updated + updated,
            ...(errors.length > 0 ? { errors: storedErrors(pending) } : {}),
            ...(final ? { done: { at: now } } : {}),
          });
          // Marked failed meanwhile (a restarting node): roll the batch back and stop.
          if (!row) throw new Stopped();
          return { row, created, updated, pending };
        });
        job.committed = {
          processed: job.committed.processed + size,
          created: job.committed.created + created,
          updated: job.committed.updated + updated,
        };
        job.errors = pending.errors;
        job.errorsNotListed = pending.errorsNotListed;
        this.options.onProgress?.(row);
        return;
      } catch (err) {
        if (attempt < batchAttempts && isTransient(err)) continue;
        throw err;
      }
    }
  }
}
