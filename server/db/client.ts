import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { sql, type AnyColumn, type ExtractTablesWithRelations, type SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import postgres from "postgres";
import * as schema from "../../drizzle/schema.ts";

export type Schema = typeof schema;
/** One type for both drivers: services never know which one they run on. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Repositories take either the database or an open transaction. */
export type Executor = Db | Tx;

export type DatabaseKind = "pglite" | "postgres";

export interface Database {
  kind: DatabaseKind;
  db: Db;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const migrationsFolder = fileURLToPath(new URL("../../drizzle/migrations", import.meta.url));

export interface PgliteOptions {
  /** A directory on disk; omit for an in-memory database. */
  dataDir?: string;
  /** A migrated database image (tests start from a shared template). */
  loadDataDir?: Blob | File;
}

export interface PgliteDatabase extends Database {
  kind: "pglite";
  /** The embedded engine itself, for dumping a migrated template in tests. */
  client: PGlite;
}

export async function openPglite(options: PgliteOptions = {}): Promise<PgliteDatabase> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const client = await PGlite.create(options.dataDir ?? "memory://", {
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    kind: "pglite",
    db,
    client,
    async ping() {
      await client.query("select 1");
    },
    async close() {
      if (!client.closed) await client.close();
    },
  };
}

export async function openPostgres(url: string, options: { max?: number } = {}): Promise<Database> {
  const client = postgres(url, {
    max: options.max ?? 10,
    onnotice: () => {},
    connect_timeout: 5,
    // No array-type lookup at connect: a lookup cut short by a lost server escapes as an
    // unhandled rejection in postgres.js. Drizzle parses array columns itself, and queries
    // pass lists as one text or JSON parameter (uuidList, textList).
    fetch_types: false,
  });
  const db = drizzlePostgres(preparing(client), { schema }) as unknown as Db;
  return {
    kind: "postgres",
    db,
    async ping() {
      await client`select 1`;
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}

/** Statements with more parameters than this (bulk inserts of varying size) are not kept prepared. */
const maxPreparedParameters = 64;

type Unsafe = postgres.Sql["unsafe"];
type Scoped = (sql: postgres.TransactionSql) => unknown;

/**
 * Drizzle sends every statement unnamed (`prepare: false`), and postgres.js then needs two
 * round trips for each one with parameters: a describe to learn the parameter types, then the
 * execution. Named statements are described once per connection and cached, so each later
 * execution is one round trip: half the waits inside every transaction, including those
 * holding a board's lock. Bulk statements with many parameters stay unnamed, so the cache
 * holds one entry per query shape (connections are recycled after 30–60 minutes anyway).
 * A proxy rather than a driver option, because drizzle passes `prepare` on every call,
 * and transactions and savepoints hand out new `sql` objects that need the same treatment.
 */
function preparing<T extends object>(sql: T): T {
  return new Proxy(sql, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== "function") return value;
      if (key === "unsafe") {
        const unsafe = value as Unsafe;
        return ((query: string, params?: unknown[], options?: { prepare?: boolean }) =>
          unsafe.call(target, query, params as never, {
            ...options,
            prepare: (params?.length ?? 0) > 0 && (params?.length ?? 0) <= maxPreparedParameters,
          })) as Unsafe;
      }
      if (key === "begin" || key === "savepoint") {
        const scoped = value as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          const fn = args.at(-1) as Scoped;
          return scoped.call(target, ...args.slice(0, -1), (inner: postgres.TransactionSql) => fn(preparing(inner)));
        };
      }
      return value;
    },
  });
}

/** Applies pending migrations to an embedded database. */
export async function migrateEmbedded(database: PgliteDatabase): Promise<void> {
  await migratePglite(database.db as never, { migrationsFolder });
}

/**
 * Applies pending migrations to a PostgreSQL server. Several nodes may start at once,
 * so the migration runs under an advisory lock on a connection of its own.
 */
export async function migrateServer(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await client`select pg_advisory_lock(7260113)`;
    await migratePostgres(drizzlePostgres(client), { migrationsFolder });
    await client`select pg_advisory_unlock(7260113)`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** Rows of a raw query on either driver (postgres.js answers an array, PGlite `{rows}`). */
export async function queryRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/**
 * A list of ids as one parameter, sent as text and cast by the server. (Array parameters make
 * postgres.js look up array types on first use, and that lookup failing while the database is
 * unreachable escapes as an unhandled rejection.)
 */
export function uuidList(ids: readonly string[]): SQL {
  return sql`${`{${ids.join(",")}}`}::uuid[]`;
}

/** A list of strings as one JSON parameter, for the same reason. */
export function textList(values: readonly string[]): SQL {
  return sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;
}

/**
 * postgres.js 3.4.9 can throw from a scheduled write after a connection has closed
 * (porsager/postgres#1154, #1208; fixes pending upstream). The query involved has already
 * been rejected with CONNECTION_CLOSED, so the throw itself carries nothing to handle.
 */
export function isClosedConnectionWrite(err: unknown): boolean {
  return (
    err instanceof TypeError &&
    err.message.includes("reading 'write'") &&
    (err.stack ?? "").includes("nextWrite") &&
    (err.stack ?? "").includes("postgres/src/connection.js")
  );
}

/**
 * `column = any(…)`: one parameter for a whole list. Batches name thousands of ids; an
 * `in ($1, …, $n)` list costs more to build, send and plan than the query itself.
 */
export function anyId(column: SQL | AnyColumn, ids: readonly string[]): SQL {
  return sql`${column} = any(${uuidList(ids)})`;
}
