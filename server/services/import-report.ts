/**
 * An import as people see it: the stored row turned into the API's view, the capped
 * list of rejected rows, and the sweeps of imports a stopped process left behind (at start-up
 * on the embedded single-node database; by heartbeat across nodes).
 */
import type { MatchField } from "../../shared/domain/matching.ts";
import type { ImportView } from "../../shared/schemas/imports.ts";
import type { Db } from "../db/client.ts";
import * as importsRepo from "../repositories/imports.ts";
import type { ImportRow } from "../repositories/imports.ts";
import { listStrategies } from "../repositories/matching.ts";

/** Rejected rows listed on an import; the rest are only counted. */
export const listedErrorsCap = 1_000;
/** Stored after the listed errors when there are more: row 0 is the header, never a rejected row. */
const notListedPattern = /^(\d+) more rejected rows are not listed$/;

export function toImportView(row: ImportRow): ImportView {
  const last = row.errors.at(-1);
  const more = last && last.row === 0 ? notListedPattern.exec(last.error) : null;
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    fileName: row.fileName,
    mapping: row.mapping,
    total: row.total,
    processed: row.processed,
    created: row.created,
    updated: row.updated,
    errors: more ? row.errors.slice(0, -1) : row.errors,
    errorsNotListed: more ? Number(more[1]) : 0,
    failure: row.failure,
    createdAt: row.createdAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

/**
 * At start on the embedded database (one node only): an import still "running" belongs to
 * the process that stopped mid-file. Its committed batches stay; it is marked failed,
 * saying how many rows made it. On PostgreSQL other nodes may be importing: see `failStaleImports`.
 */
export async function failInterruptedImports(db: Db, now: Date = new Date()): Promise<number> {
  return (await importsRepo.failRunningImports(db, now)).length;
}

/**
 * Imports on several nodes: the node streaming an import renews its heartbeat this often
 * (and with each committed batch); one silent for `staleAfterMs` belongs to a node that died.
 */
export const importHeartbeat = { everyMs: 5_000, staleAfterMs: 30_000 };

/** What a CSV row can give a lead strategy: a form, an event or a LinkedIn form never comes from a file. */
const fieldsFromFiles = new Set<MatchField>(["email", "campaign", "topic", "company", "firstName", "lastName"]);

/**
 * Fails the running imports whose node stopped sending heartbeats (run by one node, under a
 * lease). An import still streaming on a live node keeps a fresh heartbeat and is left alone.
 * The failure says how many rows were committed and whether uploading the file again is safe.
 */
export async function failStaleImports(db: Db, now: Date = new Date(), staleAfterMs = importHeartbeat.staleAfterMs): Promise<ImportRow[]> {
  const stale = await importsRepo.findStaleImports(db, staleAfterMs);
  if (stale.length === 0) return [];
  const strategies = await listStrategies(db, "lead");
  const failed: ImportRow[] = [];
  for (const found of stale) {
    const strategy = strategies.find((s) => s.id === found.leadStrategyId);
    const matches = found.kind === "contacts" || (strategy !== undefined && strategy.fields.every((f) => fieldsFromFiles.has(f)));
    const again = matches
      ? "Uploading the same file again is safe: matching updates the records already imported instead of adding them twice"
      : `Uploading the same file again updates its contacts, but the lead matching strategy${strategy ? ` "${strategy.name}"` : ""} cannot match rows of a file, so the leads of the rows already imported would be added again: upload only the rows after them`;
    const row = await importsRepo.failStaleImport(
      db,
      found.id,
      staleAfterMs,
      { before: `the server running the import stopped (no sign of life for ${Math.round(staleAfterMs / 1000)} s); `, after: ` rows were imported. ${again}` },
      now,
    );
    if (row) failed.push(row);
  }
  return failed;
}

/**
 * The errors column as stored: the listed rows, then (when some were not listed) a row-0
 * entry counting them, as the table has no column for that count.
 */
export function storedErrors(state: { errors: Array<{ row: number; error: string }>; errorsNotListed: number }) {
  return state.errorsNotListed > 0
    ? [...state.errors, { row: 0, error: `${state.errorsNotListed} more rejected rows are not listed` }]
    : state.errors;
}

