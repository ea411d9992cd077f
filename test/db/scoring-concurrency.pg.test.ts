import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { interactions } from "../../drizzle/schema.ts";
import { recordInteractions, type InteractionRecord } from "../../server/services/scoring-counters.ts";
import { makeContact } from "../support/builders.ts";
import { drivers } from "../support/databases.ts";
import { scoringWorld } from "../support/scoring.ts";
import { liveScoring } from "../support/scoring-live.ts";

/**
 * Batches recorded while the worker scores the same leads: recording upserts queue rows in
 * lead order, and the worker must take them in that order too, or the two deadlock and a
 * batch is refused. Whatever the interleaving, every interaction ends up counted once.
 */
describe.each(drivers)("recording and scoring at the same time on %s", (driver) => {
  const w = scoringWorld(driver);
  const { clock, db, drain, publish, newLead, scoreUnder, each } = liveScoring(w);

  it("records any text as given, and a whole batch in one statement", async () => {
    const contact = await makeContact(db());
    const awkward = ['say "hi", {friend}', "back\\slash \\\"", "NULL", "", " spaced ", "ünï©ødé ✓"];
    await db().transaction((tx) =>
      recordInteractions(
        tx,
        awkward.map((text, i) => ({ type: "website_visited", contactId: contact.id, occurredAt: new Date(clock.now().getTime() - i * 1000), campaign: text, url: `https://x.test/?q=${text}` })),
        clock.now(),
      ),
    );
    const rows = await db().select().from(interactions).where(eq(interactions.contactId, contact.id));
    expect(rows.map((r) => r.campaign).sort()).toEqual([...awkward].sort());
    expect(rows.map((r) => r.url).sort()).toEqual(awkward.map((t) => `https://x.test/?q=${t}`).sort());
    expect(rows.every((r) => r.formId === null && r.eventId === null)).toBe(true);
  });

  it("loses no interaction and refuses no batch while the worker scores the same leads", async () => {
    const model = await publish([each("email_opened", 1)], { name: "Opens" });
    const contacts = [];
    const leads = [];
    for (let i = 0; i < 40; i++) {
      const contact = await makeContact(db());
      contacts.push(contact);
      leads.push(await newLead({ contactId: contact.id }));
    }
    await drain();
    const expected = new Map<string, number>();
    const batches: InteractionRecord[][] = [];
    for (let b = 0; b < 12; b++) {
      const batch: InteractionRecord[] = [];
      for (let i = 0; i < 60; i++) {
        const k = (b * 7 + i * 13) % contacts.length;
        batch.push({ type: "email_opened", contactId: contacts[k]!.id, occurredAt: clock.now() });
        expected.set(leads[k]!.id, (expected.get(leads[k]!.id) ?? 0) + 1);
      }
      batches.push(batch);
    }
    let recording = true;
    const scoring = (async () => {
      while (recording) await drain();
    })();
    // Four writers at a time, as integrations post: each batch in its own transaction.
    for (let i = 0; i < batches.length; i += 4) {
      await Promise.all(batches.slice(i, i + 4).map((batch) => db().transaction((tx) => recordInteractions(tx, batch, clock.now()))));
    }
    recording = false;
    await scoring;
    await drain();
    for (const lead of leads) expect((await scoreUnder(lead.id, model.id))?.score ?? 0).toBe(expected.get(lead.id) ?? 0);
  });
});
