import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { contacts as contactsTable, interactions, leads, leadScores, scoreCounters } from "../../drizzle/schema.ts";
import { recordInteractions, type InteractionRecord } from "../../server/services/scoring-counters.ts";
import { dayMs } from "../../shared/domain/scoring.ts";
import { makeContact } from "../support/builders.ts";
import { drivers } from "../support/databases.ts";
import { modelInput, scoringWorld } from "../support/scoring.ts";
import { liveScoring } from "../support/scoring-live.ts";

describe.each(drivers)("live scoring over time: windows, publishing, bursts and concurrency, on %s", (driver) => {
  const w = scoringWorld(driver);
  const { clock, db, s, drain, idle, record, recordTimes, publish, unpublish, newLead, newAccount, scoreUnder, version, lastSeq, scoredEventsSince, each } = liveScoring(w);

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
        w.admin,
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
      await s().lifecycle.disqualify(w.admin, closed.id, { reason: "Not a fit", expectedVersion: await version(closed.id) }, clock.now());

      let since = await lastSeq();
      const published = await s().scoringModels.update(w.admin, draft.id, { status: "live" }, clock.now());
      expect(published.model.rescore).toMatchObject({ status: "running", mode: "score", processed: 0 });
      await idle();
      const { model: done } = await s().scoringModels.get(w.admin, draft.id);
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
      const edited = await s().scoringModels.update(w.admin, draft.id, { conditions: [each("email_opened", 3)] }, clock.now());
      expect(edited.model.rescore).toMatchObject({ status: "running", processed: 0 });
      await idle();
      expect((await scoreUnder(lead.id, draft.id))?.score).toBe(6);
      expect((await scoredEventsSince(since, lead.id)).at(-1)?.changes).toEqual([expect.objectContaining({ from: 14, to: 6 })]);
      const afterEdit = (await s().scoringModels.get(w.admin, draft.id)).model.rescore;
      expect(afterEdit?.status).toBe("done");
      expect(afterEdit?.processed).toBe(afterEdit?.total);

      // Live scoring carries on with the edited conditions.
      await record(contact.id, "email_opened");
      await drain();
      expect((await scoreUnder(lead.id, draft.id))?.score).toBe(9);

      since = await lastSeq();
      await s().scoringModels.update(w.admin, draft.id, { status: "draft" }, clock.now());
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
          await s().records.updateLead(w.admin, leadId, { expectedVersion: await version(leadId), campaign }, clock.now());
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
      const relink = s().records.updateLead(w.admin, lead.id, { expectedVersion, campaign: "c1" }, clock.now());
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
