import { and, eq, gte, isNotNull, isNull, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boardEvents, interactions, leadHistory, leads, leadScores, scoringModels, stages } from "../../drizzle/schema.ts";
import { createApp, type App } from "../../server/app.ts";
import { demoUsers, seedDemo, type DemoSeedResult } from "../../server/services/demo-seed.ts";
import { seededRandom } from "../../server/services/demo-data.ts";
import { DemoSimulator } from "../../server/services/simulator.ts";
import { interactionTypes } from "../../shared/domain/scoring.ts";
import { stageAgeLevel } from "../../shared/domain/stage-age.ts";
import { silentLogger } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { TestClock } from "../support/scoring.ts";
import { readWholeBoard } from "../support/whole-board.ts";

describe.each(drivers)("the demo on %s", (driver) => {
  let t: TestDatabase;
  let app: App;
  let seeded: DemoSeedResult;
  const clock = new TestClock();
  const db = () => t.database.db;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    // Live scoring is drained by hand, as the running worker would between ticks.
    app = await createApp({ database: t.database, logger: silentLogger, now: clock.now, scoring: { autoStart: false } });
    seeded = await seedDemo(db(), app, clock.now());
  });
  afterAll(async () => {
    await app?.close();
    await t?.close();
  });

  const scoresByModel = async () => {
    const rows = await db()
      .select({ leadId: leadScores.leadId, target: scoringModels.target, score: leadScores.score })
      .from(leadScores)
      .innerJoin(scoringModels, eq(scoringModels.id, leadScores.modelId));
    return {
      contact: new Map(rows.filter((r) => r.target === "contact").map((r) => [r.leadId, r.score])),
      account: new Map(rows.filter((r) => r.target === "account").map((r) => [r.leadId, r.score])),
    };
  };

  it("publishes two live models, one per target, and scores every scorable lead before the board opens", async () => {
    expect(seeded).toMatchObject({ users: demoUsers.length, leads: 320, models: 2 });
    const models = await db().select().from(scoringModels);
    expect(models.map((m) => [m.target, m.status, m.rescoreStatus]).sort()).toEqual([
      ["account", "live", "done"],
      ["contact", "live", "done"],
    ]);
    const all = await db().select({ id: leads.id, contactId: leads.contactId, accountId: leads.accountId }).from(leads);
    const { contact, account } = await scoresByModel();
    const withContact = all.filter((l) => l.contactId);
    const accountBased = all.filter((l) => !l.contactId && l.accountId);
    const unscorable = all.filter((l) => !l.contactId && !l.accountId);
    expect(withContact.every((l) => contact.has(l.id) && account.has(l.id))).toBe(true);
    expect(accountBased.length).toBeGreaterThanOrEqual(10);
    expect(accountBased.every((l) => account.has(l.id) && !contact.has(l.id))).toBe(true);
    expect(unscorable.length).toBe(seeded.unscorable);
    expect(unscorable.some((l) => contact.has(l.id) || account.has(l.id))).toBe(false);
  });

  it("leaves a plausible board: Inquiry holds the unscorable, later stages hold higher scores, some leads became sales-ready by score", async () => {
    const rows = await db()
      .select({ id: leads.id, stage: stages.key, contactId: leads.contactId, accountId: leads.accountId, salesReady: leads.salesReady })
      .from(leads)
      .innerJoin(stages, eq(stages.id, leads.stageId));
    const { contact } = await scoresByModel();
    const perStage = Object.fromEntries(["inquiry", "automated_marketing_qualification", "teleprospecting_acceptance", "teleprospecting_qualification", "sales_acceptance"].map((k) => [k, rows.filter((r) => r.stage === k)]));
    expect(Object.values(perStage).every((list) => list.length > 0)).toBe(true);
    expect(seeded.stages).toEqual(Object.fromEntries(Object.entries(perStage).map(([k, list]) => [k, list.length])));
    expect(perStage.inquiry!.every((l) => !l.contactId && !l.accountId)).toBe(true);
    const average = (stage: string) => {
      const scores = perStage[stage]!.flatMap((l) => (contact.has(l.id) ? [contact.get(l.id)!] : []));
      return scores.reduce((a, b) => a + b, 0) / scores.length;
    };
    expect(average("automated_marketing_qualification")).toBeLessThan(average("teleprospecting_qualification"));
    expect(average("teleprospecting_qualification")).toBeLessThan(average("sales_acceptance"));
    // Teleprospecting leads were moved there by people and stay below the threshold.
    for (const stage of ["teleprospecting_acceptance", "teleprospecting_qualification"]) {
      expect(perStage[stage]!.every((l) => !l.salesReady && (contact.get(l.id) ?? 0) < 100)).toBe(true);
    }
    const byScore = await db().select().from(leadHistory).where(and(eq(leadHistory.reason, "score"), eq(leadHistory.field, "sales_ready")));
    expect(byScore.length).toBeGreaterThanOrEqual(10);
    expect(seeded.salesReady).toBe(perStage.sales_acceptance!.length);
    const scoredEvents = await db().select({ n: sql<number>`count(*)::int` }).from(boardEvents).where(sql`${boardEvents.payload}->>'type' = 'lead.scored'`);
    expect(Number(scoredEvents[0]!.n)).toBeGreaterThan(250);
  });

  it("shows time in stage at every level: cards within their stage's limits, past amber, and past red", async () => {
    const system = { id: null, name: "test", kind: "system", role: "admin" } as const;
    const board = await app.services.boards.resolveBoard(system, {});
    // The whole board: the snapshot's first pages, then every column page by page.
    const { snapshot, leads } = await readWholeBoard(app.services.boards, system, board.id);
    const limits = new Map(snapshot.stages.map((s) => [s.id, s.timeLimits]));
    expect(snapshot.stages.every((s) => s.timeLimits !== null)).toBe(true);
    const levels = leads.map((l) => stageAgeLevel(l.stageEnteredAt, clock.now().getTime(), limits.get(l.stageId) ?? null));
    const count = (level: string) => levels.filter((l) => l === level).length;
    // Mostly in time, a fair share waiting too long, some overdue: a board that tells you where to look.
    expect(count("ok")).toBeGreaterThan(count("amber"));
    expect(count("amber")).toBeGreaterThanOrEqual(30);
    expect(count("red")).toBeGreaterThanOrEqual(20);
    for (const stage of ["automated_marketing_qualification", "teleprospecting_acceptance", "teleprospecting_qualification", "sales_acceptance"]) {
      const inStage = leads.flatMap((l, i) => (l.stage === stage ? [levels[i]] : []));
      expect(new Set(inStage)).toEqual(new Set(["ok", "amber", "red"]));
    }
  });

  it("simulator ticks produce every interaction type on demo contacts and move scores", async () => {
    clock.advance(60_000);
    const since = clock.now();
    const before = await scoresByModel();
    const simulator = new DemoSimulator({
      db: db(),
      forms: app.services.forms,
      events: app.services.events,
      logger: silentLogger,
      now: clock.now,
      meanIntervalMs: 8_000,
      wakeScoring: () => {},
      random: seededRandom(7),
    });
    const seen = new Map<string, number>();
    let ticks = 0;
    // Check-ins are the rarest (about one tick in 27): tick until every type has come, within a bound.
    while (ticks < 250 && interactionTypes.some((type) => !seen.has(type))) {
      await simulator.tick();
      await app.scoring.worker.drain();
      clock.advance(2_500);
      ticks++;
      const rows = await db()
        .select({ type: interactions.type, n: sql<number>`count(*)::int` })
        .from(interactions)
        .where(gte(interactions.createdAt, since))
        .groupBy(interactions.type);
      seen.clear();
      for (const row of rows) seen.set(row.type, Number(row.n));
    }
    expect(Object.fromEntries(interactionTypes.map((type) => [type, (seen.get(type) ?? 0) > 0]))).toEqual(Object.fromEntries(interactionTypes.map((type) => [type, true])));
    // Engagement goes to people the demo knows: every interaction is credited to a contact with a lead.
    const orphans = await db()
      .select({ n: sql<number>`count(*)::int` })
      .from(interactions)
      .leftJoin(leads, eq(leads.contactId, interactions.contactId))
      .where(and(gte(interactions.createdAt, since), isNull(leads.id)));
    expect(Number(orphans[0]!.n)).toBe(0);
    const after = await scoresByModel();
    const moved = [...before.contact].filter(([leadId, score]) => after.contact.get(leadId) !== score).length;
    const movedAccounts = [...before.account].filter(([leadId, score]) => after.account.get(leadId) !== score).length;
    expect(moved).toBeGreaterThan(5);
    expect(movedAccounts).toBeGreaterThan(5);
    const newLeads = await db().select({ id: leads.id }).from(leads).where(and(gte(leads.createdAt, since), isNotNull(leads.contactId)));
    expect(newLeads.length).toBeGreaterThan(0);
  });
});
