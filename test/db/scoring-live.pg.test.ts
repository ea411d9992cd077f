import { and, asc, eq, gt, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boardEvents, contacts as contactsTable, forms, interactions, leadHistory, leads, leadScores, marketingEvents, scoreCounters } from "../../drizzle/schema.ts";
import type { Actor } from "../../server/services/actor.ts";
import { withBoardEvents } from "../../server/services/event-log.ts";
import { recordInteractions, type InteractionRecord } from "../../server/services/scoring-counters.ts";
import type { BoardEvent } from "../../shared/board.ts";
import { dayMs, type InteractionType, type ScoringCondition } from "../../shared/domain/scoring.ts";
import type { LeadInput } from "../../shared/schemas/records.ts";
import { makeContact, makeUser } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { modelInput, scoresOf, stageOf, startScoringApp, TestClock } from "../support/scoring.ts";

type ScoredEvent = Extract<BoardEvent, { type: "lead.scored" }>;

describe.each(drivers)("live scoring, end to end, on %s", (driver) => {
  let t: TestDatabase;
  let server: Awaited<ReturnType<typeof startScoringApp>>;
  let admin: Actor;
  const clock = new TestClock();

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startScoringApp(t.database, clock);
    admin = (await makeUser(server.app.services.auth, "admin")).actor;
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const db = () => t.database.db;
  const s = () => server.app.services;
  const drain = () => server.app.scoring.worker.drain();
  const idle = () => server.app.scoring.rescores.idle();
  const record = (contactId: string, type: InteractionType, extra: Partial<InteractionRecord> = {}) =>
    db().transaction((tx) => recordInteractions(tx, [{ type, contactId, occurredAt: clock.now(), ...extra }], clock.now()));
  const recordTimes = async (n: number, contactId: string, type: InteractionType, extra: Partial<InteractionRecord> = {}) => {
    for (let i = 0; i < n; i++) await record(contactId, type, extra);
  };
  const publish = async (...args: Parameters<typeof modelInput>) => {
    const { model } = await s().scoringModels.create(admin, modelInput(...args), clock.now());
    await idle();
    await drain();
    return model;
  };
  const unpublish = async (...ids: string[]) => {
    for (const id of ids) await s().scoringModels.update(admin, id, { status: "draft" }, clock.now());
    await idle();
    await drain();
  };
  const newLead = (input: Omit<LeadInput, "topic"> & { topic?: string }) =>
    s().leads.create(admin, { topic: input.topic ?? "Lead", ...input }, clock.now());
  const newAccount = (name: string, extra: { industry?: string } = {}) => s().records.createAccount(admin, { name, ...extra }, clock.now());
  const scoreUnder = async (leadId: string, modelId: string) => (await scoresOf(db(), leadId)).find((r) => r.modelId === modelId);
  const leadRow = async (leadId: string) => (await db().select().from(leads).where(eq(leads.id, leadId)))[0]!;
  const version = async (leadId: string) => (await leadRow(leadId)).version;
  const lastSeq = async () => Number((await db().select({ n: sql<number>`coalesce(max(${boardEvents.seq}), 0)` }).from(boardEvents))[0]?.n ?? 0);
  const scoredEventsSince = async (seq: number, leadId?: string): Promise<ScoredEvent[]> =>
    (await db().select().from(boardEvents).where(gt(boardEvents.seq, seq)).orderBy(asc(boardEvents.seq)))
      .map((r) => r.payload as BoardEvent)
      .filter((e): e is ScoredEvent => e.type === "lead.scored" && (leadId === undefined || e.lead.id === leadId));
  const each = (interaction: InteractionType, points: number, extra: Partial<ScoringCondition> = {}): ScoringCondition =>
    ({ kind: "behavior", interaction, points, frequency: "each", ...extra }) as ScoringCondition;

  describe("account-based scoring with several contacts", () => {
    it("sums every contact's interactions, names each contributor, and scores contact leads of the account too", async () => {
      const accountModel = await publish([each("email_opened", 3)], { target: "account", name: "Account engagement" });
      const contactModel = await publish([each("email_opened", 5)], { name: "Contact engagement" });
      const account = await newAccount("Acme Corp");
      const [ann, bob, cid] = [
        await makeContact(db(), { accountId: account.id, firstName: "Ann" }),
        await makeContact(db(), { accountId: account.id, firstName: "Bob" }),
        await makeContact(db(), { accountId: account.id, firstName: "Cid" }),
      ];
      const accountLead = await newLead({ topic: "Acme, the account", accountId: account.id });
      const annLead = await newLead({ topic: "Ann's interest", contactId: ann.id });
      await recordTimes(2, ann.id, "email_opened");
      await recordTimes(3, bob.id, "email_opened");
      await drain();

      const accountScore = await scoreUnder(accountLead.id, accountModel.id);
      expect(accountScore?.score).toBe(15);
      expect(accountScore?.breakdown).toEqual([
        expect.objectContaining({
          kind: "behavior",
          points: 15,
          count: 5,
          contributors: [
            { contactId: bob.id, count: 3 },
            { contactId: ann.id, count: 2 },
          ],
        }),
      ]);
      expect(accountScore?.breakdown[0]?.contributors?.map((c) => c.contactId)).not.toContain(cid.id);
      // An account-only lead has no contact: contact models leave it alone.
      expect(await scoreUnder(accountLead.id, contactModel.id)).toBeUndefined();

      // Ann's lead belongs to Acme through Ann: the account model counts Bob too, the contact model only Ann.
      expect((await scoreUnder(annLead.id, accountModel.id))?.score).toBe(15);
      const annContact = await scoreUnder(annLead.id, contactModel.id);
      expect(annContact?.score).toBe(10);
      expect(annContact?.breakdown[0]?.contributors).toEqual([{ contactId: ann.id, count: 2 }]);

      // A third contact's interaction reaches both leads under the account model, not Ann's contact score.
      await record(cid.id, "email_opened");
      await drain();
      expect((await scoreUnder(accountLead.id, accountModel.id))?.score).toBe(18);
      expect((await scoreUnder(annLead.id, accountModel.id))?.score).toBe(18);
      expect((await scoreUnder(annLead.id, contactModel.id))?.score).toBe(10);

      // The explanation names the contacts behind the account score.
      const { scores } = await s().scoringModels.explain(admin, accountLead.id, clock.now());
      const explained = scores.find((x) => x.modelId === accountModel.id);
      expect(explained?.breakdown[0]?.contributors?.map((c) => c.contactName)).toEqual(["Bob Tester", "Ann Tester", "Cid Tester"]);
      await unpublish(accountModel.id, contactModel.id);
    });
  });

  describe("unscorable leads", () => {
    it("a lead with neither contact nor account gets no score until it is linked, then is scored from the contact's history", async () => {
      const model = await publish([each("email_clicked", 10)]);
      const contact = await makeContact(db());
      await recordTimes(2, contact.id, "email_clicked");
      const lead = await newLead({ topic: "Nobody yet" });
      await record(contact.id, "email_clicked");
      await drain();
      expect(await scoresOf(db(), lead.id)).toEqual([]);
      expect(await stageOf(db(), lead.id)).toBe("inquiry");

      await s().records.updateLead(admin, lead.id, { expectedVersion: await version(lead.id), contactId: contact.id }, clock.now());
      await drain();
      const score = await scoreUnder(lead.id, model.id);
      expect(score?.score).toBe(30);
      expect(score?.breakdown[0]).toMatchObject({ count: 3, contributors: [{ contactId: contact.id, count: 3 }] });
      expect(await stageOf(db(), lead.id)).toBe("automated_marketing_qualification");

      // Unlinking makes it unscorable again: its score goes, with an event saying so.
      const since = await lastSeq();
      await s().records.updateLead(admin, lead.id, { expectedVersion: await version(lead.id), contactId: null }, clock.now());
      await drain();
      expect(await scoresOf(db(), lead.id)).toEqual([]);
      const events = await scoredEventsSince(since, lead.id);
      expect(events.at(-1)?.changes).toEqual([expect.objectContaining({ modelId: model.id, from: 30, to: null })]);
      await unpublish(model.id);
    });
  });

  describe("hysteresis", () => {
    const hot = (keepSalesReady: boolean) =>
      publish([each("website_visited", 40, { withinDays: 2 })], { threshold: 100, keepSalesReady, name: `Visits keep=${keepSalesReady}` });

    it("by default a lead stays sales-ready when its score falls below the threshold", async () => {
      const model = await hot(true);
      const contact = await makeContact(db());
      const lead = await newLead({ contactId: contact.id });
      await recordTimes(3, contact.id, "website_visited");
      await drain();
      expect((await scoreUnder(lead.id, model.id))?.score).toBe(120);
      expect((await leadRow(lead.id)).salesReady).toBe(true);
      expect(await stageOf(db(), lead.id)).toBe("sales_acceptance");

      clock.advance(2 * dayMs);
      await drain();
      const score = await scoreUnder(lead.id, model.id);
      expect(score?.score).toBe(0);
      expect(score?.salesReady).toBe(true);
      expect((await leadRow(lead.id)).salesReady).toBe(true);
      await unpublish(model.id);
    });

    it("a model that does not keep sales-ready leads clears the mark it set, without moving the lead back", async () => {
      const model = await hot(false);
      const contact = await makeContact(db());
      const lead = await newLead({ contactId: contact.id });
      await recordTimes(3, contact.id, "website_visited");
      await drain();
      expect((await leadRow(lead.id)).salesReady).toBe(true);
      expect(await stageOf(db(), lead.id)).toBe("sales_acceptance");

      clock.advance(dayMs);
      await record(contact.id, "website_visited");
      clock.advance(dayMs);
      await drain();
      // Three visits left the window, one is left: 40 < 100.
      const score = await scoreUnder(lead.id, model.id);
      expect(score?.score).toBe(40);
      expect(score?.salesReady).toBe(false);
      expect((await leadRow(lead.id)).salesReady).toBe(false);
      expect(await stageOf(db(), lead.id)).toBe("sales_acceptance");
      const flags = await db()
        .select()
        .from(leadHistory)
        .where(and(eq(leadHistory.leadId, lead.id), eq(leadHistory.kind, "flag"), eq(leadHistory.field, "sales_ready")))
        .orderBy(asc(leadHistory.seq));
      expect(flags.map((f) => [f.toValue, f.reason])).toEqual([
        [true, "score"],
        [false, "score"],
      ]);

      // Reaching the threshold again marks it again.
      await recordTimes(2, contact.id, "website_visited");
      await drain();
      expect((await leadRow(lead.id)).salesReady).toBe(true);
      await unpublish(model.id);
    });

    it("never clears a sales-ready mark set by hand", async () => {
      const model = await hot(false);
      const contact = await makeContact(db());
      const lead = await newLead({ contactId: contact.id });
      await drain();
      await s().lifecycle.setFlag(admin, lead.id, { flag: "sales_ready", value: true, expectedVersion: await version(lead.id) }, clock.now());
      await recordTimes(3, contact.id, "website_visited");
      await drain();
      expect((await scoreUnder(lead.id, model.id))?.salesReady).toBe(true);
      clock.advance(2 * dayMs);
      await drain();
      const score = await scoreUnder(lead.id, model.id);
      expect(score?.score).toBe(0);
      expect(score?.salesReady).toBe(false);
      expect((await leadRow(lead.id)).salesReady).toBe(true);
      const flags = await db()
        .select()
        .from(leadHistory)
        .where(and(eq(leadHistory.leadId, lead.id), eq(leadHistory.kind, "flag"), eq(leadHistory.field, "sales_ready")));
      expect(flags.map((f) => [f.toValue, f.reason])).toEqual([[true, "manual"]]);
      await unpublish(model.id);
    });
  });

  describe("sameContext", () => {
    it("counts only interactions tied to the lead's own campaign, form or event", async () => {
      const model = await publish([
        each("form_submitted", 10, { sameContext: true }),
        each("event_attended", 7, { sameContext: true }),
        each("email_opened", 1),
      ]);
      const [form] = await db().insert(forms).values({ name: "Spring form", campaign: "spring" }).returning();
      const [otherForm] = await db().insert(forms).values({ name: "Other form" }).returning();
      const [event] = await db().insert(marketingEvents).values({ name: "Summit", startsAt: clock.now() }).returning();
      const [otherEvent] = await db().insert(marketingEvents).values({ name: "Meetup", startsAt: clock.now() }).returning();
      const contact = await makeContact(db());
      const byCampaign = await newLead({ topic: "By campaign", contactId: contact.id, campaign: "spring" });
      const fromForm = await withBoardEvents(db(), server.app.fanout, clock.now(), (tx, log) =>
        s().leads.createInTransaction(tx, log, admin, { topic: "From the form", contactId: contact.id }, { source: "form", formId: form!.id }, clock.now()),
      );
      const fromEvent = await withBoardEvents(db(), server.app.fanout, clock.now(), (tx, log) =>
        s().leads.createInTransaction(tx, log, admin, { topic: "From the event", contactId: contact.id }, { source: "event", eventId: event!.id }, clock.now()),
      );
      await record(contact.id, "form_submitted", { campaign: "spring" });
      await record(contact.id, "form_submitted", { campaign: "autumn" });
      await record(contact.id, "form_submitted", { formId: form!.id });
      await record(contact.id, "form_submitted", { formId: otherForm!.id });
      await record(contact.id, "form_submitted");
      await record(contact.id, "event_attended", { eventId: event!.id });
      await record(contact.id, "event_attended", { eventId: otherEvent!.id, campaign: "spring" });
      await record(contact.id, "email_opened", { campaign: "autumn" });
      await drain();

      // Spring: the spring submission and the spring attendance; the form lead: its form; the event lead: its event.
      expect((await scoreUnder(byCampaign.id, model.id))?.score).toBe(10 + 7 + 1);
      expect((await scoreUnder(fromForm.id, model.id))?.score).toBe(10 + 1);
      expect((await scoreUnder(fromEvent.id, model.id))?.score).toBe(7 + 1);

      // A new campaign rebuilds the lead's counters under its new context.
      await s().records.updateLead(admin, byCampaign.id, { expectedVersion: await version(byCampaign.id), campaign: "autumn" }, clock.now());
      await drain();
      expect((await scoreUnder(byCampaign.id, model.id))?.score).toBe(10 + 1);
      expect(await s().scoringModels.evaluateAll(db(), model, [byCampaign.id, fromForm.id, fromEvent.id], clock.now())).toEqual(
        new Map([
          [byCampaign.id, expect.objectContaining({ score: 11 })],
          [fromForm.id, expect.objectContaining({ score: 11 })],
          [fromEvent.id, expect.objectContaining({ score: 8 })],
        ]),
      );
      await unpublish(model.id);
    });
  });

  describe("frequencies through the worker", () => {
    it("once (minCount 3) and none, with and without a window, and negative points", async () => {
      const model = await publish(
        [
          { kind: "behavior", interaction: "email_opened", points: 20, frequency: "once", minCount: 3 },
          { kind: "behavior", interaction: "email_clicked", points: 30, frequency: "once", minCount: 3, withinDays: 7 },
          { kind: "behavior", interaction: "event_attended", points: 15, frequency: "none" },
          { kind: "behavior", interaction: "website_visited", points: 5, frequency: "none", withinDays: 3 },
          { kind: "behavior", interaction: "form_submitted", points: -10, frequency: "each" },
        ],
        { threshold: 1000 },
      );
      const contact = await makeContact(db());
      const lead = await newLead({ contactId: contact.id });
      const score = async () => (await scoreUnder(lead.id, model.id))?.score;
      await drain();
      // No interaction at all: both "none" conditions hold.
      expect(await score()).toBe(20);

      await recordTimes(2, contact.id, "email_opened");
      await drain();
      expect(await score()).toBe(20);
      await record(contact.id, "email_opened");
      await drain();
      expect(await score()).toBe(40);

      const firstClick = clock.now().getTime();
      await record(contact.id, "email_clicked");
      clock.advance(dayMs);
      await record(contact.id, "email_clicked");
      await drain();
      expect(await score()).toBe(40);
      clock.advance(dayMs);
      await record(contact.id, "email_clicked");
      await drain();
      expect(await score()).toBe(70);

      // A visit takes the "no visit in 3 days" points away until it is 3 days old.
      await record(contact.id, "website_visited");
      await drain();
      expect(await score()).toBe(65);
      clock.set(new Date(firstClick + 7 * dayMs - 1));
      await drain();
      expect(await score()).toBe(70);
      // The first click leaves its window at exactly 7 days: two clicks are left, fewer than 3.
      clock.set(new Date(firstClick + 7 * dayMs));
      await drain();
      expect(await score()).toBe(40);

      await record(contact.id, "event_attended");
      await recordTimes(2, contact.id, "form_submitted");
      await drain();
      expect(await score()).toBe(40 - 15 - 20);
      const stored = await scoreUnder(lead.id, model.id);
      expect(stored?.breakdown.map((b) => [b.condition, b.points, b.count])).toEqual([
        [0, 20, 3],
        [3, 5, 0],
        [4, -20, 2],
      ]);
      const full = (await s().scoringModels.evaluateAll(db(), model, [lead.id], clock.now())).get(lead.id);
      expect(full?.score).toBe(stored?.score);
      expect(full?.breakdown).toEqual(stored?.breakdown);
      await unpublish(model.id);
    });
  });

  describe("windows", () => {
    it("a lead with windowed scores under two live models is scored (one expiry per lead on the queue)", async () => {
      // Two expiries for one lead in one upsert once failed the whole scoring round ("cannot affect row a second time").
      const first = await publish([each("website_visited", 2, { withinDays: 1 })], { threshold: 1000, name: "Visits, 1 day" });
      const second = await publish([each("website_visited", 3, { withinDays: 2 })], { threshold: 1000, name: "Visits, 2 days" });
      const contact = await makeContact(db());
      const lead = await newLead({ contactId: contact.id });
      await record(contact.id, "website_visited");
      await drain();
      expect((await scoreUnder(lead.id, first.id))?.score).toBe(2);
      expect((await scoreUnder(lead.id, second.id))?.score).toBe(3);
      clock.advance(dayMs);
      await drain();
      expect((await scoreUnder(lead.id, first.id))?.score).toBe(0);
      expect((await scoreUnder(lead.id, second.id))?.score).toBe(3);
      clock.advance(dayMs);
      await drain();
      expect((await scoreUnder(lead.id, second.id))?.score).toBe(0);
      await unpublish(first.id, second.id);
    });

    it("an interaction dated a little ahead (clock skew) is recorded as happening now, and counts at once", async () => {
      const model = await publish([each("form_submitted", 5, { withinDays: 1 })], { threshold: 1000 });
      const contact = await makeContact(db());
      const lead = await newLead({ contactId: contact.id });
      const recordedAt = clock.now();
      await record(contact.id, "form_submitted", { occurredAt: new Date(recordedAt.getTime() + 2 * 60_000) });
      await drain();
      expect((await scoreUnder(lead.id, model.id))?.score).toBe(5);
      const [stored] = await db().select().from(interactions).where(eq(interactions.contactId, contact.id));
      expect(new Date(stored!.occurredAt).toISOString()).toBe(recordedAt.toISOString());
      // Its window runs from the moment it was recorded.
      clock.advance(dayMs);
      await drain();
      expect((await scoreUnder(lead.id, model.id))?.score).toBe(0);
      await unpublish(model.id);
    });
  });

  describe("publishing and editing", () => {
    it("a draft scores nothing; publishing, editing and going back to draft rescore every open lead in the background", async () => {
      const { model: draft } = await s().scoringModels.create(
        admin,
        modelInput([each("email_opened", 7)], { status: "draft", name: "Draft model" }),
        clock.now(),
      );
      const contact = await makeContact(db());
      const lead = await newLead({ contactId: contact.id });
      const closedContact = await makeContact(db());
      const closed = await newLead({ contactId: closedContact.id });
      await recordTimes(2, contact.id, "email_opened");
      await recordTimes(2, closedContact.id, "email_opened");
      await drain();
      expect(await scoreUnder(lead.id, draft.id)).toBeUndefined();
      expect(await db().select().from(scoreCounters).where(eq(scoreCounters.modelId, draft.id))).toEqual([]);
      await s().lifecycle.disqualify(admin, closed.id, { reason: "Not a fit", expectedVersion: await version(closed.id) }, clock.now());

      let since = await lastSeq();
      const published = await s().scoringModels.update(admin, draft.id, { status: "live" }, clock.now());
      expect(published.model.rescore).toMatchObject({ status: "running", mode: "score", processed: 0 });
      await idle();
      const { model: done } = await s().scoringModels.get(admin, draft.id);
      expect(done.rescore?.status).toBe("done");
      expect(done.rescore?.processed).toBe(done.rescore?.total);
      const openLeads = await db().select({ id: leads.id, contactId: leads.contactId, isTest: leads.isTest }).from(leads).where(eq(leads.status, "open"));
      expect(done.rescore?.total).toBe(openLeads.length);
      expect((await scoreUnder(lead.id, draft.id))?.score).toBe(14);
      expect(await scoreUnder(closed.id, draft.id)).toBeUndefined();
      // Every open contact lead has a score under it now (0 for those without opens), and no closed one.
      const rows = await db().select().from(leadScores).where(eq(leadScores.modelId, draft.id));
      expect(new Set(rows.map((r) => r.leadId))).toEqual(new Set(openLeads.filter((l) => l.contactId && !l.isTest).map((l) => l.id)));
      expect((await scoredEventsSince(since, lead.id)).at(-1)?.changes).toEqual([expect.objectContaining({ modelId: draft.id, from: null, to: 14 })]);

      // A closed lead's interactions change nothing.
      await record(closedContact.id, "email_opened");
      await drain();
      expect(await scoreUnder(closed.id, draft.id)).toBeUndefined();

      since = await lastSeq();
      const edited = await s().scoringModels.update(admin, draft.id, { conditions: [each("email_opened", 3)] }, clock.now());
      expect(edited.model.rescore).toMatchObject({ status: "running", processed: 0 });
      await idle();
      expect((await scoreUnder(lead.id, draft.id))?.score).toBe(6);
      expect((await scoredEventsSince(since, lead.id)).at(-1)?.changes).toEqual([expect.objectContaining({ from: 14, to: 6 })]);
      const afterEdit = (await s().scoringModels.get(admin, draft.id)).model.rescore;
      expect(afterEdit?.status).toBe("done");
      expect(afterEdit?.processed).toBe(afterEdit?.total);

      // Live scoring carries on with the edited conditions.
      await record(contact.id, "email_opened");
      await drain();
      expect((await scoreUnder(lead.id, draft.id))?.score).toBe(9);

      since = await lastSeq();
      await s().scoringModels.update(admin, draft.id, { status: "draft" }, clock.now());
      await idle();
      expect(await db().select().from(leadScores).where(eq(leadScores.modelId, draft.id))).toEqual([]);
      expect(await db().select().from(scoreCounters).where(eq(scoreCounters.modelId, draft.id))).toEqual([]);
      const removed = await scoredEventsSince(since, lead.id);
      expect(removed).toHaveLength(1);
      expect(removed[0]?.changes).toEqual([expect.objectContaining({ modelId: draft.id, from: 9, to: null })]);
      await record(contact.id, "email_opened");
      await drain();
      expect(await scoreUnder(lead.id, draft.id)).toBeUndefined();
    });
  });

  describe("coalescing", () => {
    it("30 interactions on one lead, one drain: one lead.scored event with the final score", async () => {
      const model = await publish([each("email_opened", 2)], { threshold: 1000 });
      const contact = await makeContact(db());
      const lead = await newLead({ contactId: contact.id });
      await drain();
      const since = await lastSeq();
      await recordTimes(30, contact.id, "email_opened");
      await drain();
      const events = await scoredEventsSince(since, lead.id);
      expect(events).toHaveLength(1);
      expect(events[0]?.changes).toEqual([expect.objectContaining({ modelId: model.id, from: 0, to: 60 })]);
      expect(events[0]?.lead.scores).toEqual(expect.arrayContaining([expect.objectContaining({ modelId: model.id, score: 60 })]));
      await unpublish(model.id);
    });
  });

  describe("concurrent interactions on one lead", () => {
    const concurrently = (items: Array<Omit<InteractionRecord, "occurredAt">>) =>
      Promise.all(items.map((item) => db().transaction((tx) => recordInteractions(tx, [{ ...item, occurredAt: clock.now() }], clock.now()))));

    it("lose no points on one contact", async () => {
      const model = await publish([each("email_opened", 2)], { threshold: 1000 });
      const contact = await makeContact(db());
      const lead = await newLead({ contactId: contact.id });
      await concurrently(Array.from({ length: 40 }, () => ({ type: "email_opened" as const, contactId: contact.id })));
      await drain();
      expect((await scoreUnder(lead.id, model.id))?.score).toBe(80);
      expect((await db().select().from(interactions).where(eq(interactions.contactId, contact.id))).length).toBe(40);
      await unpublish(model.id);
    });

    it("lose no points across several contacts of one account (account model)", async () => {
      const model = await publish([each("email_opened", 2)], { threshold: 1000, target: "account" });
      const account = await newAccount("Concurrent Inc");
      const contacts = await Promise.all(Array.from({ length: 4 }, () => makeContact(db(), { accountId: account.id })));
      const lead = await newLead({ accountId: account.id });
      const contactLead = await newLead({ contactId: contacts[0]!.id });
      await concurrently(Array.from({ length: 40 }, (_, i) => ({ type: "email_opened" as const, contactId: contacts[i % 4]!.id })));
      await drain();
      for (const id of [lead.id, contactLead.id]) {
        const score = await scoreUnder(id, model.id);
        expect(score?.score).toBe(80);
        expect(score?.breakdown[0]?.contributors?.map((c) => c.count)).toEqual([10, 10, 10, 10]);
      }
      await unpublish(model.id);
    });

    it("lose no points and count none twice while the lead is relinked to a new campaign meanwhile", async () => {
      const contactModel = await publish([each("email_opened", 1), each("email_opened", 100, { sameContext: true })], { threshold: 100_000 });
      const accountModel = await publish([each("email_opened", 1), each("email_opened", 100, { sameContext: true })], { threshold: 100_000, target: "account" });
      const account = await newAccount("Relinked Ltd");
      const contacts = await Promise.all(Array.from({ length: 3 }, () => makeContact(db(), { accountId: account.id })));
      const contactLead = await newLead({ contactId: contacts[0]!.id });
      const accountLead = await newLead({ accountId: account.id });
      await drain();
      const campaigns = ["c1", "c2", "c3", "c4"];
      const relink = async (leadId: string) => {
        for (const campaign of campaigns) {
          await s().records.updateLead(admin, leadId, { expectedVersion: await version(leadId), campaign }, clock.now());
        }
      };
      await Promise.all([
        concurrently(Array.from({ length: 40 }, (_, i) => ({ type: "email_opened" as const, contactId: contacts[i % 3]!.id, campaign: "c4" }))),
        relink(contactLead.id),
        relink(accountLead.id),
      ]);
      await drain();
      // The final campaign is c4: every interaction counts for both conditions.
      const onContact = await scoreUnder(contactLead.id, contactModel.id);
      expect(onContact?.score).toBe(14 * 101);
      expect((await scoreUnder(contactLead.id, accountModel.id))?.score).toBe(40 * 101);
      expect((await scoreUnder(accountLead.id, accountModel.id))?.score).toBe(40 * 101);
      for (const model of [contactModel, accountModel]) {
        const full = await s().scoringModels.evaluateAll(db(), model, [contactLead.id, accountLead.id], clock.now());
        for (const id of [contactLead.id, accountLead.id]) {
          expect((await scoreUnder(id, model.id))?.breakdown, `${model.target} model, lead ${id}`).toEqual(full.get(id)?.breakdown);
        }
      }
      await unpublish(contactModel.id, accountModel.id);
    });

    it("a recording held up mid-transaction neither deadlocks with nor miscounts a relink of its lead", async () => {
      // Recording once took its scope lock and then waited for the lead row, while a lead edit held
      // the row and waited for the scope to rebuild it: PostgreSQL aborted one of them as a deadlock.
      const model = await publish([each("email_opened", 1), each("email_opened", 100, { sameContext: true })], { threshold: 100_000 });
      const contact = await makeContact(db());
      const lead = await newLead({ contactId: contact.id });
      const expectedVersion = await version(lead.id);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let held!: () => void;
      const holding = new Promise<void>((resolve) => (held = resolve));
      // Someone holds the contact row: the recording stops at its interaction insert, inside its transaction.
      const blocker = db().transaction(async (tx) => {
        await tx.select({ id: contactsTable.id }).from(contactsTable).where(eq(contactsTable.id, contact.id)).for("update");
        held();
        await gate;
      });
      await holding;
      const recording = db().transaction((tx) =>
        recordInteractions(tx, [{ type: "email_opened", contactId: contact.id, occurredAt: clock.now(), campaign: "c1" }], clock.now()),
      );
      await new Promise((resolve) => setTimeout(resolve, 150));
      const relink = s().records.updateLead(admin, lead.id, { expectedVersion, campaign: "c1" }, clock.now());
      await new Promise((resolve) => setTimeout(resolve, 150));
      release();
      const outcomes = await Promise.allSettled([blocker, recording, relink]);
      expect(outcomes.map((o) => (o.status === "rejected" ? String(o.reason) : "ok"))).toEqual(["ok", "ok", "ok"]);
      await drain();
      expect((await scoreUnder(lead.id, model.id))?.score).toBe(101);
      await unpublish(model.id);
    });
  });
});
