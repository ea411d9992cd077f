import { readFileSync } from "node:fs";
import postgres from "postgres";
import { inject } from "vitest";
import { openPglite, openPostgres, type Database, type DatabaseKind } from "../../server/db/client.ts";
import { databaseUrlFor } from "./postgres-url.ts";

/** PGlite always; a real PostgreSQL server too when TEST_DATABASE_URL is set. */
export const drivers: DatabaseKind[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

let counter = 0;

export interface TestDatabase {
  database: Database;
  /** The PostgreSQL URL of this copy, for tests that start a server process against it. */
  url: string | undefined;
  close(): Promise<void>;
}

/** A fresh copy of the migrated template, private to the caller. */
export async function openTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === "pglite") {
    const image = readFileSync(inject("pgliteTemplate"));
    const database = await openPglite({ loadDataDir: new Blob([image]) });
    return { database, url: undefined, close: () => database.close() };
  }
  const serverUrl = process.env.TEST_DATABASE_URL!;
  const template = inject("postgresTemplate");
  if (!template) throw new Error("no PostgreSQL template was prepared");
  const name = `lpb_test_${inject("runId")}_${process.pid}_${++counter}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    // Copies of one template cannot start at the very same moment; retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.unsafe(`create database "${name}" template "${template}"`);
        break;
      } catch (err) {
        if (attempt > 20 || !String(err).includes("being accessed by other users")) throw err;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  const url = databaseUrlFor(serverUrl, name);
  const database = await openPostgres(url);
  return {
    database,
    url,
    async close() {
      await database.close();
      const cleanup = postgres(serverUrl, { max: 1, onnotice: () => {} });
      await cleanup.unsafe(`drop database if exists "${name}" with (force)`);
      await cleanup.end();
    },
  };
}
