import { eq } from "drizzle-orm";
import { leadScores, leads, stages } from "../../drizzle/schema.ts";
import { createApp, type App } from "../../server/app.ts";
import type { Database, Db } from "../../server/db/client.ts";
import { afterAll, beforeAll } from "vitest";
import type { DatabaseKind } from "../../server/db/client.ts";
import type { Actor } from "../../server/services/actor.ts";
import { recordInteractions, type InteractionRecord } from "../../server/services/scoring-counters.ts";
import type { InteractionType, ScoringCondition } from "../../shared/domain/scoring.ts";
import type { ScoringModelInput } from "../../shared/schemas/scoring.ts";
import { makeUser, silentLogger } from "./builders.ts";
import { openTestDatabase, type TestDatabase } from "./databases.ts";

/** A clock tests move by hand: scoring windows and expiries are exercised without waiting. */
export class TestClock {
  constructor(private at = new Date("2026-06-01T09:00:00.000Z")) {}
  now = (): Date => new Date(this.at);
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
  set(at: Date): void {
    this.at = new Date(at);
  }
}

/** The app with live scoring stopped: tests drain the queue when they want scores. */
export async function startScoringApp(database: Database, clock: TestClock): Promise<{ app: App; url: string; close(): Promise<void> }> {
  const app = await createApp({ database, logger: silentLogger, now: clock.now, scoring: { autoStart: false } });
  const { url } = await app.listen(0, "127.0.0.1");
  return { app, url, close: () => app.close() };
}

export function modelInput(conditions: ScoringCondition[], overrides: Partial<ScoringModelInput> = {}): ScoringModelInput {
  return {
    name: `Model ${Math.random().toString(36).slice(2, 8)}`,
    target: "contact",
    threshold: 100,
    status: "live",
    grades: [],
    keepSalesReady: true,
    conditions,
    ...overrides,
  };
}

export async function scoresOf(db: Db, leadId: string) {
  return db.select().from(leadScores).where(eq(leadScores.leadId, leadId));
}

export async function stageOf(db: Db, leadId: string): Promise<string> {
  const rows = await db.select({ key: stages.key }).from(leads).innerJoin(stages, eq(stages.id, leads.stageId)).where(eq(leads.id, leadId));
  return rows[0]!.key;
}

/**
 * A private database and scoring app for one describe block (hooks registered here), with an
 * admin, the clock, and the shortcuts scoring tests use.
 */
export function scoringWorld(driver: DatabaseKind) {
  const clock = new TestClock();
  let t: TestDatabase | undefined;
  let server: Awaited<ReturnType<typeof startScoringApp>> | undefined;
  let admin: Actor | undefined;
  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startScoringApp(t.database, clock);
    admin = (await makeUser(server.app.services.auth, "admin")).actor;
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });
  const world = {
    clock,
    get t(): TestDatabase {
      return t!;
    },
    get server() {
      return server!;
    },
    get admin(): Actor {
      return admin!;
    },
    db: (): Db => t!.database.db,
    s: () => server!.app.services,
    drain: () => server!.app.scoring.worker.drain(),
    idle: () => server!.app.scoring.rescores.idle(),
    /** One interaction now (by the test clock), recorded as the channels record them. */
    record: (contactId: string, type: InteractionType, extra: Partial<InteractionRecord> = {}) =>
      t!.database.db.transaction((tx) => recordInteractions(tx, [{ type, contactId, occurredAt: clock.now(), ...extra }], clock.now())),
  };
  return world;
}
