import { sql } from "drizzle-orm";
import { queryRows, type Db } from "../../server/db/client.ts";

/**
 * A cheap fingerprint of everything the application stores: per table of the public
 * schema, its row count and an order-independent hash of its rows (the sum of each row's
 * hashtext), so a refused or invalid request that changed anything at all is caught,
 * whichever table it touched. Columns that merely record that someone authenticated
 * (a session's sliding expiry, a key's or display's "last used") are left out: a refused
 * call is still a call by someone.
 */
export type Fingerprint = Record<string, string>;

const bookkeepingColumns = new Set(["sessions.last_seen_at", "sessions.expires_at", "api_keys.last_used_at", "display_tokens.last_seen_at"]);

interface Column {
  table_name: string;
  column_name: string;
}

const queries = new WeakMap<Db, ReturnType<typeof sql.raw>>();

async function fingerprintQuery(db: Db) {
  const cached = queries.get(db);
  if (cached) return cached;
  const columns = await queryRows<Column>(
    db,
    sql`select c.table_name, c.column_name
          from information_schema.columns c
          join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
         where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
         order by c.table_name, c.ordinal_position`,
  );
  const byTable = new Map<string, string[]>();
  for (const { table_name: table, column_name: column } of columns) {
    if (!byTable.has(table)) byTable.set(table, []);
    if (!bookkeepingColumns.has(`${table}.${column}`)) byTable.get(table)!.push(column);
  }
  const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const parts = [...byTable].map(([table, cols]) => {
    // row(a) of a single column is just a parenthesised value; row() needs at least one column.
    const row = cols.length > 0 ? `row(${cols.map(quote).join(", ")})::text` : `''`;
    return `select '${table.replaceAll("'", "''")}' as name, count(*)::text || ':' || coalesce(sum(hashtext(${row})::bigint), 0)::text as digest from ${quote(table)}`;
  });
  const query = sql.raw(parts.join("\nunion all\n"));
  queries.set(db, query);
  return query;
}

/**
 * The last fingerprint of each database with the cluster's transaction snapshot it was taken
 * at. Only a transaction that writes is given an id, so while the snapshot (next id, and ids
 * in progress) is the same, nothing anywhere was written and the fingerprint still holds.
 */
const last = new WeakMap<Db, { snapshot: string; fingerprint: Fingerprint }>();

const currentSnapshot = async (db: Db) =>
  (await queryRows<{ snapshot: string }>(db, sql`select pg_current_snapshot()::text as snapshot`))[0]!.snapshot;

export async function stateFingerprint(db: Db): Promise<Fingerprint> {
  const snapshot = await currentSnapshot(db);
  const cached = last.get(db);
  if (cached?.snapshot === snapshot) return cached.fingerprint;
  const rows = await queryRows<{ name: string; digest: string }>(db, await fingerprintQuery(db));
  const fingerprint = Object.fromEntries(rows.map((r) => [r.name, r.digest]));
  // Taken before the hash: a write that slipped in between changes the snapshot, so the next call recomputes.
  last.set(db, { snapshot, fingerprint });
  return fingerprint;
}

/** The tables whose fingerprint differs ("" when none): the readable part of a failure. */
export function changedTables(before: Fingerprint, after: Fingerprint): string {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names]
    .filter((n) => before[n] !== after[n])
    .map((n) => `${n} (${before[n] ?? "absent"} → ${after[n] ?? "absent"})`)
    .join(", ");
}
