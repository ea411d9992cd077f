/**
 * Builds one migrated database template per driver before any test file runs, so each
 * file copies a template instead of migrating from scratch.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { migrateEmbedded, migrateServer, openPglite } from "../../server/db/client.ts";
import { databaseUrlFor } from "./postgres-url.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pgliteTemplate: string;
    postgresTemplate: string | null;
    runId: string;
  }
}

export default async function setup(project: TestProject) {
  const runId = randomBytes(4).toString("hex");
  const dir = mkdtempSync(path.join(tmpdir(), "lpb-test-"));

  const pglite = await openPglite();
  await migrateEmbedded(pglite);
  const dump = await pglite.client.dumpDataDir("none");
  const templateFile = path.join(dir, "template.tar");
  writeFileSync(templateFile, Buffer.from(await dump.arrayBuffer()));
  await pglite.close();

  const url = process.env.TEST_DATABASE_URL;
  if (process.env.CI && !url) {
    throw new Error("CI must run the database tests against a real PostgreSQL server: set TEST_DATABASE_URL");
  }
  let postgresTemplate: string | null = null;
  if (url) {
    postgresTemplate = `lpb_template_${runId}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${postgresTemplate}"`);
    await admin.end();
    await migrateServer(databaseUrlFor(url, postgresTemplate));
  }

  project.provide("pgliteTemplate", templateFile);
  project.provide("postgresTemplate", postgresTemplate);
  project.provide("runId", runId);

  return async () => {
    rmSync(dir, { recursive: true, force: true });
    if (url && postgresTemplate) {
      const admin = postgres(url, { max: 1, onnotice: () => {} });
      const rows = await admin<{ datname: string }[]>`
        select datname from pg_database where datname like ${`lpb_%_${runId}%`}`;
      for (const { datname } of rows) await admin.unsafe(`drop database if exists "${datname}" with (force)`);
      await admin.end();
    }
  };
}
