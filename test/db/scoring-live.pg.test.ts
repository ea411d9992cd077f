import { and, asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { forms, leadHistory, marketingEvents } from "../../drizzle/schema.ts";
import { withBoardEvents } from "../../server/services/event-log.ts";
import { dayMs } from "../../shared/domain/scoring.ts";
import { makeContact } from "../support/builders.ts";
import { drivers } from "../support/databases.ts";
import { scoresOf, scoringWorld, stageOf } from "../support/scoring.ts";
import { liveScoring } from "../support/scoring-live.ts";

describe.each(drivers)("live scoring, end to end, on %s", (driver) => {
  const w = scoringWorld(driver);
  const { clock, db, s, drain, record, recordTimes, publish, unpublish, newLead, newAccount, scoreUnder, leadRow, version, lastSeq, scoredEventsSince, each } = liveScoring(w);

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
      const { scores } = await s().scoringModels.explain(w.admin, accountLead.id, clock.now());
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

      await s().records.updateLead(w.admin, lead.id, { expectedVersion: await version(lead.id), contactId: contact.id }, clock.now());
      await drain();
      const score = await scoreUnder(lead.id, model.id);
      expect(score?.score).toBe(30);
      expect(score?.breakdown[0]).toMatchObject({ count: 3, contributors: [{ contactId: contact.id, count: 3 }] });
      expect(await stageOf(db(), lead.id)).toBe("automated_marketing_qualification");

      // Unlinking makes it unscorable again: its score goes, with an event saying so.
      const since = await lastSeq();
      await s().records.updateLead(w.admin, lead.id, { expectedVersion: await version(lead.id), contactId: null }, clock.now());
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
      await s().lifecycle.setFlag(w.admin, lead.id, { flag: "sales_ready", value: true, expectedVersion: await version(lead.id) }, clock.now());
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
      const fromForm = await withBoardEvents(db(), w.server.app.fanout, clock.now(), (tx, log) =>
        s().leads.createInTransaction(tx, log, w.admin, { topic: "From the form", contactId: contact.id }, { source: "form", formId: form!.id }, clock.now()),
      );
      const fromEvent = await withBoardEvents(db(), w.server.app.fanout, clock.now(), (tx, log) =>
        s().leads.createInTransaction(tx, log, w.admin, { topic: "From the event", contactId: contact.id }, { source: "event", eventId: event!.id }, clock.now()),
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
      await s().records.updateLead(w.admin, byCampaign.id, { expectedVersion: await version(byCampaign.id), campaign: "autumn" }, clock.now());
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
});
