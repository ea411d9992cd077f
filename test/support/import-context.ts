/**
 * The set-up the CSV import tests share: a fresh database per driver, a marketer, the intake
 * and lead services, and helpers that run an import to its end or feed an upload by hand.
 * Call it inside `describe`: it registers the `beforeAll`/`afterAll` that fill and close it.
 */
import { PassThrough, Readable } from "node:stream";
import { count } from "drizzle-orm";
import { afterAll, beforeAll } from "vitest";
import type { accounts, contacts, leads } from "../../drizzle/schema.ts";
import type { BoardEvent } from "../../shared/board.ts";
import type { Db, DatabaseKind } from "../../server/db/client.ts";
import { findImport, type ImportRow } from "../../server/repositories/imports.ts";
import type { Actor } from "../../server/services/actor.ts";
import { AuthService } from "../../server/services/auth-service.ts";
import { ImportService, type ImportRequest, type ImportServiceOptions } from "../../server/services/import-service.ts";
import { IntakeService } from "../../server/services/intake-service.ts";
import { LeadService } from "../../server/services/lead-service.ts";
import { makeUser } from "./builders.ts";
import { openTestDatabase, type TestDatabase } from "./databases.ts";

let serial = 0;
/** A tag unique to the run, so rows of one test never match another's. */
export const tag = () => `t${Date.now().toString(36)}${++serial}`;

export interface ImportContext {
  t: TestDatabase;
  db: Db;
  admin: Actor;
  leadService: LeadService;
  intake: IntakeService;
  /** Every board event committed, in order. */
  announced: BoardEvent[];
  sink: { committed(events: BoardEvent[]): void };
  service(options?: ImportServiceOptions, intakeService?: IntakeService): ImportService;
  /** Runs an import of `csv` to its end and returns the stored import. */
  importCsv(csv: string, request: ImportRequest, imports?: ImportService): Promise<ImportRow>;
  /** A contact intake knows (its match keys registered), as if it came in through a form. */
  knownContact(values: { email: string; firstName?: string }): Promise<NonNullable<Awaited<ReturnType<IntakeService["upsertContact"]>>["row"]>>;
  countOf(table: typeof contacts | typeof leads | typeof accounts): Promise<number>;
  /** An upload the test feeds by hand (batches of 2 contacts), with the import's progress reports. */
  manualImport(options?: ImportServiceOptions): Promise<{
    input: PassThrough;
    progress: ImportRow[];
    imports: ImportService;
    importId: string;
    stored: () => Promise<ImportRow>;
  }>;
}

export function importContext(driver: DatabaseKind): ImportContext {
  const announced: BoardEvent[] = [];
  const c = {
    announced,
    sink: {
      committed: (events: BoardEvent[]) => {
        announced.push(...events);
      },
    },
    service: (options: ImportServiceOptions = {}, intakeService?: IntakeService) =>
      new ImportService(c.db, c.sink, intakeService ?? c.intake, c.leadService, options),
    async importCsv(csv: string, request: ImportRequest, imports = c.service()) {
      const { importId } = await imports.start(c.admin, Readable.from([Buffer.from(csv)]), request, () => new Date());
      await imports.settled(importId);
      return (await findImport(c.db, importId))!;
    },
    async knownContact(values: { email: string; firstName?: string }) {
      const strategies = await c.intake.strategies();
      const { row } = await c.db.transaction((tx) => c.intake.upsertContact(tx, strategies, values, "form", new Date()));
      return row!;
    },
    countOf: async (table: typeof contacts | typeof leads | typeof accounts) => (await c.db.select({ n: count() }).from(table))[0]!.n,
    async manualImport(options: ImportServiceOptions = {}) {
      const input = new PassThrough();
      const progress: ImportRow[] = [];
      const imports = c.service({ batchSize: 2, ...options, onProgress: (r) => progress.push(r) });
      input.write("Email,First Name\n");
      const { importId } = await imports.start(c.admin, input, { kind: "contacts" }, () => new Date());
      return { input, progress, imports, importId, stored: async () => (await findImport(c.db, importId))! };
    },
    // The database, the marketer and the services are filled in by beforeAll.
  } as unknown as ImportContext;
  beforeAll(async () => {
    c.t = await openTestDatabase(driver);
    c.db = c.t.database.db;
    c.admin = (await makeUser(new AuthService(c.db), "marketer")).actor;
    c.leadService = new LeadService(c.db, c.sink);
    c.intake = new IntakeService(c.db, c.sink, c.leadService);
  });
  afterAll(async () => {
    await c.t?.close();
  });
  return c;
}
