import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { boardEvents, leadHistory, leads } from "../../drizzle/schema.ts";
import type { BoardEvent } from "../../shared/board.ts";
import { dayMs } from "../../shared/domain/scoring.ts";
import { makeContact } from "../support/builders.ts";
import { drivers } from "../support/databases.ts";
import { modelInput, scoresOf, scoringWorld, stageOf } from "../support/scoring.ts";

describe.each(drivers)("live scoring on %s", (driver) => {
  const w = scoringWorld(driver);
  const { clock, db, s, drain } = w;
  const record = w.record;
  const publish = async (...args: Parameters<typeof modelInput>) => {
    const { model } = await s().scoringModels.create(w.admin, modelInput(...args), clock.now());
    await w.server.app.scoring.rescores.idle();
    await drain();
    return model;
  };
  const unpublish = async (id: string) => {
    await s().scoringModels.update(w.admin, id, { status: "draft" }, clock.now());
    await w.server.app.scoring.rescores.idle();
  };
  const eventsOf = async (leadId: string) =>
    (await db().select().from(boardEvents)).map((r) => r.payload as BoardEvent).filter((e) => "lead" in e && e.lead.id === leadId);

  it("scores a contact-based lead from its interactions and fields, and moves it out of Inquiry on its first score", async () => {
    const model = await publish([
      { kind: "behavior", interaction: "form_submitted", points: 10, frequency: "each" },
      { kind: "contact", field: "jobTitle", op: "contains", value: "director", points: 15 },
    ]);
    const contact = await makeContact(db(), { jobTitle: "Marketing Director" });
    const lead = await s().leads.create(w.admin, { topic: "Scored lead", contactId: contact.id }, clock.now());
    await record(contact.id, "form_submitted");
    await record(contact.id, "form_submitted");
    await drain();
    const [score] = (await scoresOf(db(), lead.id)).filter((r) => r.modelId === model.id);
    expect(score?.score).toBe(35);
    expect(score?.breakdown.map((b) => [b.kind, b.points, b.count])).toEqual([
      ["behavior", 20, 2],
      ["contact", 15, undefined],
    ]);
    expect(await stageOf(db(), lead.id)).toBe("automated_marketing_qualification");
    const history = await db().select().from(leadHistory).where(and(eq(leadHistory.leadId, lead.id), eq(leadHistory.kind, "stage")));
    expect(history.at(-1)?.reason).toBe("automation");
    const scored = (await eventsOf(lead.id)).filter((e) => e.type === "lead.scored");
    expect(scored).toHaveLength(1);
    expect(scored[0]).toMatchObject({ moved: { fromStage: "inquiry", toStage: "automated_marketing_qualification" }, lead: { score: 35 } });
    await unpublish(model.id);
    expect((await scoresOf(db(), lead.id)).filter((r) => r.modelId === model.id)).toEqual([]);
  });

  it("reaching the threshold marks the lead sales-ready and jumps it to Sales acceptance", async () => {
    const model = await publish([{ kind: "behavior", interaction: "email_clicked", points: 40, frequency: "each" }], { threshold: 100 });
    const contact = await makeContact(db());
    const lead = await s().leads.create(w.admin, { topic: "Hot lead", contactId: contact.id }, clock.now());
    await record(contact.id, "email_clicked");
    await drain();
    expect(await stageOf(db(), lead.id)).toBe("automated_marketing_qualification");
    await record(contact.id, "email_clicked");
    await record(contact.id, "email_clicked");
    await drain();
    expect(await stageOf(db(), lead.id)).toBe("sales_acceptance");
    const [row] = await db().select().from(leads).where(eq(leads.id, lead.id));
    expect(row?.salesReady).toBe(true);
    const last = (await eventsOf(lead.id)).at(-1);
    expect(last).toMatchObject({ type: "lead.scored", salesReadyMarked: true, moved: { toStage: "sales_acceptance" } });
    expect(last?.type === "lead.scored" && last.changes[0]?.crossedThreshold).toBe(true);
    await unpublish(model.id);
  });

  it("a windowed condition falls at the exact moment its interaction leaves the window", async () => {
    const model = await publish([{ kind: "behavior", interaction: "website_visited", points: 5, frequency: "each", withinDays: 7 }]);
    const contact = await makeContact(db());
    const lead = await s().leads.create(w.admin, { topic: "Visitor", contactId: contact.id }, clock.now());
    await record(contact.id, "website_visited");
    clock.advance(dayMs);
    await record(contact.id, "website_visited");
    await drain();
    const scoreNow = async () => (await scoresOf(db(), lead.id)).find((r) => r.modelId === model.id);
    expect((await scoreNow())?.score).toBe(10);
    clock.advance(6 * dayMs - 1);
    await drain();
    expect((await scoreNow())?.score).toBe(10);
    clock.advance(1);
    await drain();
    expect((await scoreNow())?.score).toBe(5);
    clock.advance(dayMs);
    await drain();
    expect((await scoreNow())?.score).toBe(0);
    await unpublish(model.id);
  });
});
