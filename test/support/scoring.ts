import { eq } from "drizzle-orm";
import { leadScores, leads, stages } from "../../drizzle/schema.ts";
import { createApp, type App } from "../../server/app.ts";
import type { Database, Db } from "../../server/db/client.ts";
import type { ScoringCondition } from "../../shared/domain/scoring.ts";
import type { ScoringModelInput } from "../../shared/schemas/scoring.ts";
import { silentLogger } from "./builders.ts";

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
