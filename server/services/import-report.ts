/**
 * An import as people see it: the stored row turned into the API's view, the capped
 * list of rejected rows, and the start-up sweep of imports a stopped process left behind.
 */
import type { ImportView } from "../../shared/schemas/imports.ts";
import type { Db } from "../db/client.ts";
import * as importsRepo from "../repositories/imports.ts";
import type { ImportRow } from "../repositories/imports.ts";

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
 * At start: an import still "running" belongs to a process that stopped mid-file. Its
 * committed batches stay; it is marked failed, saying how many rows made it.
 */
export async function failInterruptedImports(db: Db, now: Date = new Date()): Promise<number> {
  return (await importsRepo.failRunningImports(db, now)).length;
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

