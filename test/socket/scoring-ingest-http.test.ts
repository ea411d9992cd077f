import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import * as contactsRepo from "../../server/repositories/contacts.ts";
import { dayMs } from "../../shared/domain/scoring.ts";
import type { ScoreExplanation, ScoringModelView } from "../../shared/schemas/scoring.ts";
import { makeContact } from "../support/builders.ts";
import { drivers } from "../support/databases.ts";
import { openWorld, unique, type ErrorJson, type Request } from "../support/scoring-http.ts";

describe.each(drivers)("live scores over HTTP on %s", (driver) => {
  const w = openWorld(driver);
  let model: ScoringModelView;

  beforeAll(async () => {
    model = await w.publish(
      [
        { kind: "behavior", interaction: "form_submitted", points: 10, frequency: "each", withinDays: 30 },
        { kind: "behavior", interaction: "email_clicked", points: 15, frequency: "once" },
        { kind: "contact", field: "jobTitle", op: "contains", value: "director", points: 20 },
        { kind: "behavior", interaction: "website_visited", points: -5, frequency: "none", withinDays: 14 },
      ],
      { name: "Engagement", threshold: 1000, grades: [{ grade: "Low", min: -100, max: 19 }, { grade: "Mid", min: 20, max: 39 }, { grade: "High", min: 40, max: 1000 }] },
    );
  });

  it("an interaction posted with an ingest key changes the lead's score once the worker runs", async () => {
    const contact = await makeContact(w.db(), { jobTitle: "Analyst" });
    const lead = await w.lead({ contactId: contact.id });
    await w.drain();
    expect((await w.scoreOf(lead.id, model.id))?.score).toBe(-5);

    const res = await w.ingest([{ type: "form_submitted", email: contact.email!.toUpperCase() }]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 1, rejected: [] });
    // Accepted is recorded, not yet scored: the worker has not run.
    expect((await w.scoreOf(lead.id, model.id))?.score).toBe(-5);
    await w.drain();
    expect((await w.scoreOf(lead.id, model.id))?.score).toBe(5);

    const wrapped = await w.ingest({ interactions: [{ type: "form_submitted", contactId: contact.id, occurredAt: new Date(w.clock.now().getTime() - 3_600_000).toISOString() }] });
    expect(wrapped.body).toEqual({ accepted: 1, rejected: [] });
    await w.drain();
    expect(await w.scoreOf(lead.id, model.id)).toMatchObject({ score: 15, previousScore: 5, grade: "Low" });
  });

  it("an id posted in uppercase counts like the same id in lowercase", async () => {
    const contact = await makeContact(w.db(), { jobTitle: "Analyst" });
    const lead = await w.lead({ contactId: contact.id });
    await w.drain();
    const res = await w.ingest([{ type: "form_submitted", contactId: contact.id.toUpperCase() }]);
    expect(res.body).toEqual({ accepted: 1, rejected: [] });
    await w.drain();
    expect((await w.scoreOf(lead.id, model.id))?.score).toBe(5);
  });

  it("rejects bad items by index and records the good ones", async () => {
    const contact = await makeContact(w.db());
    const lead = await w.lead({ contactId: contact.id });
    await w.drain();
    const before = await w.interactionCount();
    const now = w.clock.now().getTime();
    const res = await w.ingest([
      { type: "form_submitted", email: contact.email },
      { type: "form_submitted", email: `nobody.${unique()}@test.example` },
      { type: "form_submitted", contactId: contact.id, occurredAt: new Date(now - 3_600_000).toISOString() },
      { type: "form_submitted", contactId: randomUUID() },
      { type: "form_submitted", contactId: contact.id, formId: randomUUID() },
      { type: "form_sent", contactId: contact.id },
      { type: "form_submitted", contactId: contact.id, occurredAt: new Date(now + dayMs).toISOString() },
      42,
      { type: "email_clicked", contactId: contact.id, email: contact.email },
      { type: "event_registered", contactId: contact.id, eventId: randomUUID() },
      { type: "email_clicked", email: contact.email },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(3);
    expect(res.body.rejected.map((r) => [r.index, r.error.code, r.error.details?.[0]?.field])).toEqual([
      [1, "NOT_FOUND", "email"],
      [3, "NOT_FOUND", "contactId"],
      [4, "NOT_FOUND", "formId"],
      [5, "INVALID_INPUT", "type"],
      [6, "INVALID_INPUT", "occurredAt"],
      [7, "INVALID_INPUT", "(body)"],
      [8, "INVALID_INPUT", "(body)"],
      [9, "NOT_FOUND", "eventId"],
    ]);
    expect(await w.interactionCount()).toBe(before + 3);
    await w.drain();
    // two forms (+20), a click (+15), no visit (-5)
    expect((await w.scoreOf(lead.id, model.id))?.score).toBe(30);
  });

  it("only an API key with the ingest scope may post interactions", async () => {
    const contact = await makeContact(w.db());
    const item = [{ type: "email_opened", contactId: contact.id }];
    const before = await w.interactionCount();
    const cases: Array<[string, Request, number, string]> = [
      ["a key without ingest", { as: null, bearer: w.readKey }, 403, "FORBIDDEN"],
      ["an unknown key", { as: null, bearer: "lpk_not-a-real-key" }, 401, "UNAUTHENTICATED"],
      ["no credentials", { as: null }, 401, "UNAUTHENTICATED"],
      ["an admin's session", { as: w.cookies.admin }, 403, "FORBIDDEN"],
      ["a marketer's session", { as: w.cookies.marketer }, 403, "FORBIDDEN"],
    ];
    for (const [name, init, status, code] of cases) {
      const res = await w.api<ErrorJson>("/interactions", { ...init, json: item });
      expect([name, res.status, res.body.error?.code]).toEqual([name, status, code]);
    }
    expect(await w.interactionCount()).toBe(before);
  });

  it.each([
    ["an empty array", { json: [] }],
    ["an empty interactions list", { json: { interactions: [] } }],
    ["more than 5000 interactions", { json: Array.from({ length: 5001 }, () => ({ type: "email_opened", email: "a@test.example" })) }],
    ["a body that is not JSON", { raw: "{not json" }],
    ["a text body", { raw: "email_opened a@test.example", contentType: "text/plain" }],
    ["a JSON string", { raw: '"email_opened"' }],
    ["an object of another shape", { json: { items: [{ type: "email_opened", email: "a@test.example" }] } }],
  ] as Array<[string, Request]>)("%s is 400 INVALID_INPUT and records nothing", async (_name, init) => {
    const before = await w.interactionCount();
    const res = await w.ingest(undefined, init);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: "INVALID_INPUT", message: expect.any(String) } });
    expect(await w.interactionCount()).toBe(before);
  });

  it("explains a score: contributing conditions, their evidence with times, and the contacts' names", async () => {
    const contact = await makeContact(w.db(), { firstName: "Dana", lastName: `Director ${unique()}`, jobTitle: "Sales Director" });
    const lead = await w.lead({ contactId: contact.id });
    const now = w.clock.now().getTime();
    const ago = (ms: number) => new Date(now - ms).toISOString();
    const res = await w.ingest([
      { type: "form_submitted", contactId: contact.id, occurredAt: ago(40 * dayMs) }, // outside the 30-day window
      { type: "form_submitted", contactId: contact.id, occurredAt: ago(3 * dayMs) },
      { type: "form_submitted", contactId: contact.id, occurredAt: ago(2 * dayMs) },
      { type: "form_submitted", contactId: contact.id, occurredAt: ago(3_600_000) },
      { type: "form_submitted", contactId: contact.id, occurredAt: ago(dayMs) },
      { type: "email_clicked", contactId: contact.id, occurredAt: ago(5 * dayMs) },
    ]);
    expect(res.body).toEqual({ accepted: 6, rejected: [] });
    await w.drain();

    // A viewer: a salesperson no longer sees this lead (not sales-ready, not theirs).
    const explained = await w.api<{ scores: ScoreExplanation[] }>(`/leads/${lead.id}/scores`, { as: w.cookies.viewer });
    expect(explained.status).toBe(200);
    const name = `Dana ${contact.lastName}`;
    expect(explained.body.scores).toEqual([
      {
        modelId: model.id,
        modelName: "Engagement",
        threshold: 1000,
        score: 40 + 15 + 20 - 5,
        grade: "High",
        previousScore: null,
        salesReady: false,
        updatedAt: w.clock.now().toISOString(),
        breakdown: [
          {
            condition: 0,
            kind: "behavior",
            label: "form submitted: each time, last 30 days",
            points: 40,
            count: 4,
            contributors: [{ contactId: contact.id, contactName: name, count: 4 }],
            evidence: [ago(3_600_000), ago(dayMs), ago(2 * dayMs)].map((at) => ({
              interactionId: expect.any(String),
              type: "form_submitted",
              at,
              contactId: contact.id,
              contactName: name,
            })),
          },
          {
            condition: 1,
            kind: "behavior",
            label: "email link clicked: at least once",
            points: 15,
            count: 1,
            contributors: [{ contactId: contact.id, contactName: name, count: 1 }],
            evidence: [{ interactionId: expect.any(String), type: "email_clicked", at: ago(5 * dayMs), contactId: contact.id, contactName: name }],
          },
          { condition: 2, kind: "contact", label: "Job title contains director", points: 20 },
          { condition: 3, kind: "behavior", label: "website visited: never, last 14 days", points: -5, count: 0, contributors: [], evidence: [] },
        ],
      },
    ]);
  });

  it("an account-based lead's breakdown names every contributing contact", async () => {
    const accountModel = await w.publish(
      [
        { kind: "behavior", interaction: "website_visited", points: 2, frequency: "each" },
        { kind: "account", field: "industry", op: "eq", value: "software", points: 10 },
      ],
      { target: "account", name: "Account engagement", threshold: 1000 },
    );
    const account = await contactsRepo.insertAccount(w.db(), { name: `Acme ${unique()}`, industry: "Software" });
    const ann = await makeContact(w.db(), { firstName: "Ann", lastName: "Alpha", accountId: account.id });
    const ben = await makeContact(w.db(), { firstName: "Ben", lastName: "Beta", accountId: account.id });
    const lead = await w.lead({ accountId: account.id });
    const now = w.clock.now().getTime();
    const visit = (email: string | null, minutesAgo: number) => ({ type: "website_visited", email, occurredAt: new Date(now - minutesAgo * 60_000).toISOString() });
    const res = await w.ingest([visit(ann.email, 30), visit(ben.email, 20), visit(ann.email, 10), visit(ann.email, 5)]);
    expect(res.body).toEqual({ accepted: 4, rejected: [] });
    await w.drain();

    const scores = (await w.api<{ scores: ScoreExplanation[] }>(`/leads/${lead.id}/scores`)).body.scores;
    // The contact model does not score a lead without a contact.
    expect(scores.map((s) => s.modelId)).toEqual([accountModel.id]);
    const [visits, industry] = scores[0]!.breakdown;
    expect(scores[0]!.score).toBe(18);
    expect(visits).toMatchObject({
      points: 8,
      count: 4,
      contributors: [
        { contactId: ann.id, contactName: "Ann Alpha", count: 3 },
        { contactId: ben.id, contactName: "Ben Beta", count: 1 },
      ],
    });
    expect(visits!.evidence?.map((e) => [e.contactName, e.at])).toEqual([
      ["Ann Alpha", new Date(now - 5 * 60_000).toISOString()],
      ["Ann Alpha", new Date(now - 10 * 60_000).toISOString()],
      ["Ben Beta", new Date(now - 20 * 60_000).toISOString()],
    ]);
    expect(industry).toEqual({ condition: 1, kind: "account", label: "Industry is software", points: 10 });
    await w.retire(accountModel.id);
  });

  it("lead scores: 404 for an unknown lead, 400 for a bad id, 401 without a session", async () => {
    const unknown = await w.api<ErrorJson>(`/leads/${randomUUID()}/scores`);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "NOT_FOUND"]);
    const bad = await w.api<ErrorJson>("/leads/nope/scores");
    expect([bad.status, bad.body.error.code]).toEqual([400, "INVALID_INPUT"]);
    const anonymous = await w.api<ErrorJson>(`/leads/${randomUUID()}/scores`, { as: null });
    expect(anonymous.status).toBe(401);
  });

  // Bug: ingestion accepts times up to 5 minutes ahead (clock skew). A windowed "once"/"none"
  // condition keeps only its latest N times, so the future time takes the only slot, is not
  // counted (it is not inside the window yet), and hides yesterday's visit; nothing schedules
  // a re-evaluation for when the future time becomes the present either.
  it("a slightly future-dated interaction (within the accepted clock skew) never hides one already counted", async () => {
    const contact = await makeContact(w.db());
    const lead = await w.lead({ contactId: contact.id });
    const now = w.clock.now().getTime();
    expect((await w.ingest([{ type: "website_visited", contactId: contact.id, occurredAt: new Date(now - dayMs).toISOString() }])).body.accepted).toBe(1);
    await w.drain();
    expect((await w.scoreOf(lead.id, model.id))?.score).toBe(0);

    const skewed = await w.ingest([{ type: "website_visited", contactId: contact.id, occurredAt: new Date(now + 2 * 60_000).toISOString() }]);
    expect(skewed.body).toEqual({ accepted: 1, rejected: [] });
    await w.drain();
    const soon = (await w.scoreOf(lead.id, model.id))?.score;
    w.clock.advance(3 * 60_000);
    await w.drain();
    const later = (await w.scoreOf(lead.id, model.id))?.score;
    expect({ soon, later }).toEqual({ soon: 0, later: 0 });
  });
});
