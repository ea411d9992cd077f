import { randomUUID } from "node:crypto";
import { and, count, eq, isNotNull } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { leads, scoringModels } from "../../drizzle/schema.ts";
import type { ModelInsights, ScorePreview, ScoringModelView } from "../../shared/schemas/scoring.ts";
import { makeContact } from "../support/builders.ts";
import { drivers } from "../support/databases.ts";
import { modelInput } from "../support/scoring.ts";
import { bands, formEach, openWorld, unique, type ErrorJson } from "../support/scoring-http.ts";

describe.each(drivers)("scoring models over HTTP on %s", (driver) => {
  const w = openWorld(driver);
  const draft = (overrides: Parameters<typeof modelInput>[1] = {}) =>
    modelInput(
      [formEach, { kind: "contact", field: "jobTitle", op: "contains", value: "director", points: 20 }],
      { status: "draft", name: `Fit ${unique()}`, grades: bands, threshold: 50, ...overrides },
    );
  const createDraft = async (overrides: Parameters<typeof modelInput>[1] = {}) => {
    const res = await w.api<{ model: ScoringModelView }>("/scoring-models", { json: draft(overrides), as: w.cookies.marketer });
    expect(res.status).toBe(201);
    return res.body.model;
  };
  const modelCount = async () => (await w.db().select({ n: count() }).from(scoringModels))[0]!.n;

  it("a marketer creates a model (201); everyone on the board lists and reads it", async () => {
    const input = draft({ keepSalesReady: false });
    const created = await w.api<{ model: ScoringModelView }>("/scoring-models", { json: input, as: w.cookies.marketer });
    expect(created.status).toBe(201);
    const { model } = created.body;
    expect(model).toEqual({
      ...input,
      id: expect.any(String),
      version: 1,
      createdAt: w.clock.now().toISOString(),
      updatedAt: w.clock.now().toISOString(),
      rescore: null,
    });

    const listed = await w.api<{ models: ScoringModelView[] }>("/scoring-models", { as: w.cookies.viewer });
    expect(listed.status).toBe(200);
    expect(listed.body.models).toContainEqual(model);

    const got = await w.api<{ model: ScoringModelView }>(`/scoring-models/${model.id}`, { as: w.cookies.salesperson });
    expect(got.status).toBe(200);
    expect(got.body.model).toEqual(model);
  });

  it("answers 404, 400 and 401 for unknown ids, bad ids and no session", async () => {
    const unknown = await w.api<ErrorJson>(`/scoring-models/${randomUUID()}`);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "NOT_FOUND"]);
    const bad = await w.api<ErrorJson>("/scoring-models/not-an-id");
    expect([bad.status, bad.body.error.code]).toEqual([400, "INVALID_INPUT"]);
    const anonymous = await w.api<ErrorJson>("/scoring-models", { as: null });
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, "UNAUTHENTICATED"]);
    const patchUnknown = await w.api<ErrorJson>(`/scoring-models/${randomUUID()}`, { method: "PATCH", json: { name: "x" } });
    expect([patchUnknown.status, patchUnknown.body.error.code]).toEqual([404, "NOT_FOUND"]);
  });

  it.each([
    ["an empty body", undefined],
    ["no conditions", { conditions: [] }],
    ["overlapping grades", { grades: [{ grade: "A", min: 0, max: 50 }, { grade: "B", min: 50, max: 60 }] }],
  ])("refuses to create a model with %s (400 INVALID_INPUT), creating nothing", async (_name, overrides) => {
    const before = await modelCount();
    const res = await w.api<ErrorJson>("/scoring-models", overrides === undefined ? { raw: "{}" } : { json: { ...draft(), ...overrides } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID_INPUT");
    expect(res.body.error.details?.length).toBeGreaterThan(0);
    expect(await modelCount()).toBe(before);
  });

  it("PATCH edits with the expected version; a stale version is 409 CONFLICT and changes nothing", async () => {
    const model = await createDraft();
    const edited = await w.api<{ model: ScoringModelView }>(`/scoring-models/${model.id}`, {
      method: "PATCH",
      json: { expectedVersion: 1, name: "Renamed model", threshold: 80 },
      as: w.cookies.marketer,
    });
    expect(edited.status).toBe(200);
    expect(edited.body.model).toMatchObject({ id: model.id, name: "Renamed model", threshold: 80, version: 2, conditions: model.conditions });

    const stale = await w.api<ErrorJson>(`/scoring-models/${model.id}`, { method: "PATCH", json: { expectedVersion: 1, name: "Stale edit" } });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("CONFLICT");
    const after = await w.api<{ model: ScoringModelView }>(`/scoring-models/${model.id}`);
    expect(after.body.model).toEqual(edited.body.model);
  });

  it.each([
    ["points 1001", { conditions: [{ ...formEach, points: 1001 }] }, ["conditions.0.points"]],
    ["threshold 0", { threshold: 0 }, ["threshold"]],
    ["nothing to change", { expectedVersion: 1 }, ["(body)"]],
    ["an unknown key", { name: "x", colour: "red" }, ["(body)"]],
    // Valid alone; only the merged model shows the problem.
    ["grades that overlap", { grades: [{ grade: "Low", min: 0, max: 50 }, { grade: "High", min: 40, max: 100 }] }, ["grades.1"]],
    ["grades that leave a gap", { grades: [{ grade: "Low", min: 0, max: 20 }, { grade: "High", min: 40, max: 100 }] }, ["grades.1"]],
    ["an account target for a model with a contact condition", { target: "account" }, ["conditions.1.kind"]],
    [
      "several problems at once",
      {
        grades: [{ grade: "A", min: 10, max: 5 }],
        conditions: [
          { ...formEach, minCount: 2 },
          { kind: "contact", field: "salary", op: "gt", value: 1, points: 1 },
          { kind: "account", field: "employeeCount", op: "gte", value: "many", points: 1 },
        ],
      },
      ["conditions.0.minCount", "conditions.1.field", "conditions.2.value", "grades.0"],
    ],
  ])("PATCH with %s is 400 INVALID_INPUT with a detail per problem, and nothing changes", async (_name, patch, fields) => {
    const model = await createDraft();
    const before = await w.snapshot();
    const res = await w.api<ErrorJson>(`/scoring-models/${model.id}`, { method: "PATCH", json: patch });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID_INPUT");
    expect(res.body.error.details?.map((d) => d.field).sort()).toEqual(fields);
    for (const detail of res.body.error.details ?? []) expect(detail.message).not.toBe("");
    expect(await w.snapshot()).toEqual(before);
    expect((await w.api<{ model: ScoringModelView }>(`/scoring-models/${model.id}`)).body.model).toEqual(model);
  });

  it.each(["salesperson", "viewer", "telemarketer", "sales_manager"] as const)(
    "a %s may not create, edit or preview models (403 FORBIDDEN), and nothing is created or changed",
    async (role) => {
      const model = await createDraft();
      const before = await w.snapshot();
      const as = w.cookies[role];
      const attempts = [
        await w.api<ErrorJson>("/scoring-models", { json: draft(), as }),
        await w.api<ErrorJson>(`/scoring-models/${model.id}`, { method: "PATCH", json: { expectedVersion: 1, name: "Mine now" }, as }),
        await w.api<ErrorJson>(`/scoring-models/${model.id}`, { method: "PATCH", json: { status: "live" }, as }),
        await w.api<ErrorJson>("/scoring-models/preview", { json: { target: "contact", threshold: 10, conditions: [formEach] }, as }),
        await w.api<ErrorJson>(`/scoring-models/${model.id}/preview`, { json: {}, as }),
      ];
      expect(attempts.map((a) => [a.status, a.body.error.code])).toEqual(attempts.map(() => [403, "FORBIDDEN"]));
      expect(await w.snapshot()).toEqual(before);
    },
  );

  it("an API key is no person: it may not create models either", async () => {
    const before = await modelCount();
    const res = await w.api<ErrorJson>("/scoring-models", { json: draft(), as: null, bearer: w.ingestKey });
    expect([res.status, res.body.error.code]).toEqual([403, "FORBIDDEN"]);
    expect(await modelCount()).toBe(before);
  });

  it("previews an unsaved model and a stored edit against today's leads, changing nothing", async () => {
    const title = `Preview Chief ${unique()}`;
    const hot = [await makeContact(w.db(), { jobTitle: title }), await makeContact(w.db(), { jobTitle: title.toUpperCase() })];
    const cold = await makeContact(w.db(), { jobTitle: "Intern" });
    const hotLeads = [await w.lead({ contactId: hot[0]!.id }), await w.lead({ contactId: hot[1]!.id })];
    await w.lead({ contactId: cold.id });
    await w.lead({ contactId: null }); // unscorable: never counted
    await w.settle();
    const scorable = (
      await w
        .db()
        .select({ n: count() })
        .from(leads)
        .where(and(eq(leads.status, "open"), eq(leads.isTest, false), isNotNull(leads.contactId)))
    )[0]!.n;

    const unsaved = {
      target: "contact",
      threshold: 40,
      grades: bands,
      conditions: [{ kind: "contact", field: "jobTitle", op: "eq", value: title, points: 50 }],
    };
    const before = await w.snapshot();

    const preview = await w.api<{ preview: ScorePreview }>("/scoring-models/preview", { json: unsaved, as: w.cookies.marketer });
    expect(preview.status).toBe(200);
    const p = preview.body.preview;
    expect(p).toMatchObject({ modelId: null, leadsScored: scorable, wouldBeSalesReady: 2, wouldCrossThreshold: 2 });
    expect(p.leadsConsidered).toBeGreaterThanOrEqual(scorable + 1);
    expect(p.grades).toEqual([
      { grade: "Cold", count: scorable - 2 },
      { grade: "Hot", count: 2 },
    ]);
    expect(p.distribution.reduce((sum, b) => sum + b.count, 0)).toBe(scorable);
    // The leads that would become sales-ready come first.
    expect(p.changes.slice(0, 2).map((c) => c.leadId).sort()).toEqual(hotLeads.map((l) => l.id).sort());
    expect(p.changes[0]).toMatchObject({ score: 50, grade: "Hot", currentScore: null, salesReadyNow: false, salesReadyAfter: true });
    expect(await w.snapshot()).toEqual(before);

    // A stored draft, then an edit of it that is not saved.
    const stored = await w.api<{ model: ScoringModelView }>("/scoring-models", { json: { ...unsaved, name: `Stored ${unique()}`, status: "draft" } });
    expect(stored.status).toBe(201);
    const id = stored.body.model.id;
    const afterCreate = await w.snapshot();

    const asStored = await w.api<{ preview: ScorePreview }>(`/scoring-models/${id}/preview`, { method: "POST", as: w.cookies.marketer });
    expect(asStored.status).toBe(200);
    expect(asStored.body.preview).toMatchObject({ modelId: id, leadsScored: scorable, wouldCrossThreshold: 2 });

    const edit = await w.api<{ preview: ScorePreview }>(`/scoring-models/${id}/preview`, { json: { threshold: 60 } });
    expect(edit.status).toBe(200);
    expect(edit.body.preview).toMatchObject({ modelId: id, leadsScored: scorable, wouldBeSalesReady: 0, wouldCrossThreshold: 0 });
    expect(edit.body.preview.grades).toEqual([
      { grade: "Cold", count: scorable - 2 },
      { grade: "Hot", count: 2 },
    ]);

    const regraded = await w.api<{ preview: ScorePreview }>(`/scoring-models/${id}/preview`, {
      json: { grades: [{ grade: "All", min: 0, max: 100 }], target: "account", conditions: [formEach] },
    });
    expect(regraded.status).toBe(200);
    // No lead here has an account: an account model scores none of them.
    expect(regraded.body.preview).toMatchObject({ leadsScored: 0, wouldCrossThreshold: 0, grades: [{ grade: "All", count: 0 }] });

    expect(await w.snapshot()).toEqual(afterCreate);
  });

  it.each([
    ["a new model without its target, threshold and conditions", "/scoring-models/preview", {}, ["conditions", "target", "threshold"]],
    ["grades that overlap", "/scoring-models/preview", { target: "contact", threshold: 5, conditions: [formEach], grades: [{ grade: "A", min: 0, max: 9 }, { grade: "B", min: 5, max: 20 }] }, ["grades.1"]],
    ["a contact condition in an account model", "/scoring-models/preview", { target: "account", threshold: 5, conditions: [{ kind: "contact", field: "jobTitle", op: "exists", points: 1 }] }, ["conditions.0.kind"]],
    ["withinDays 0", "/scoring-models/preview", { target: "contact", threshold: 5, conditions: [{ ...formEach, withinDays: 0 }] }, ["conditions.0.withinDays"]],
  ])("a preview with %s is 400 INVALID_INPUT", async (_name, path, json, fields) => {
    const res = await w.api<ErrorJson>(path, { json });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("INVALID_INPUT");
    expect(res.body.error.details?.map((d) => d.field).sort()).toEqual(fields);
  });

  it("a preview of an unknown model is 404", async () => {
    const res = await w.api<ErrorJson>(`/scoring-models/${randomUUID()}/preview`, { json: {} });
    expect([res.status, res.body.error.code]).toEqual([404, "NOT_FOUND"]);
  });
});

describe.each(drivers)("model insights over HTTP on %s", (driver) => {
  const w = openWorld(driver);

  it("reports leads scored, distribution, grades, top 10% and average after scoring; a preview of an edit changes nothing", async () => {
    const model = await w.publish(
      [
        { kind: "behavior", interaction: "form_submitted", points: 10, frequency: "each" },
        { kind: "behavior", interaction: "email_clicked", points: 15, frequency: "once" },
        { kind: "contact", field: "jobTitle", op: "eq", value: "director", points: 20 },
        { kind: "behavior", interaction: "website_visited", points: -5, frequency: "none" },
      ],
      { threshold: 35, grades: [{ grade: "Low", min: -10, max: 19 }, { grade: "Mid", min: 20, max: 39 }, { grade: "High", min: 40, max: 100 }] },
    );
    const p = await makeContact(w.db(), { jobTitle: "Director" });
    const q = await makeContact(w.db());
    const r = await makeContact(w.db());
    for (const c of [p, q, r]) await w.lead({ contactId: c.id });
    await w.lead({ contactId: null }); // unscorable
    const res = await w.ingest([
      { type: "email_clicked", contactId: p.id },
      ...Array.from({ length: 4 }, () => ({ type: "form_submitted", contactId: r.id })),
      { type: "website_visited", contactId: r.id },
    ]);
    expect(res.body).toEqual({ accepted: 6, rejected: [] });
    await w.settle();

    const insights = await w.api<{ insights: ModelInsights }>(`/scoring-models/${model.id}/insights`, { as: w.cookies.sales_manager });
    expect(insights.status).toBe(200);
    // p: 20 + 15 - 5 = 30 (Mid), q: -5 (Low), r: 40 (High, sales-ready at 35)
    expect(insights.body.insights).toMatchObject({
      modelId: model.id,
      leadsScored: 3,
      grades: [
        { grade: "Low", count: 1 },
        { grade: "Mid", count: 1 },
        { grade: "High", count: 1 },
      ],
      top10PercentScore: 40,
      salesReady: 1,
      averageScore: 21.7,
    });
    const distribution = insights.body.insights.distribution;
    expect(distribution.reduce((sum, b) => sum + b.count, 0)).toBe(3);
    expect(distribution[0]).toEqual({ min: -5, max: -1, count: 1 });
    expect(distribution.at(-1)).toMatchObject({ count: 1 });
    expect(distribution.at(-1)!.min).toBeLessThanOrEqual(40);
    expect(distribution.at(-1)!.max).toBeGreaterThanOrEqual(40);

    const salesperson = await w.api<ErrorJson>(`/scoring-models/${model.id}/insights`, { as: w.cookies.salesperson });
    expect([salesperson.status, salesperson.body.error.code]).toEqual([403, "FORBIDDEN"]);
    const unknown = await w.api<ErrorJson>(`/scoring-models/${randomUUID()}/insights`);
    expect(unknown.status).toBe(404);

    // What-if on the live model: a lower threshold would make p sales-ready too; nothing is written.
    const before = await w.snapshot();
    const preview = await w.api<{ preview: ScorePreview }>(`/scoring-models/${model.id}/preview`, { json: { threshold: 25 } });
    expect(preview.status).toBe(200);
    expect(preview.body.preview).toMatchObject({ modelId: model.id, leadsScored: 3, wouldBeSalesReady: 2, wouldCrossThreshold: 1 });
    expect(preview.body.preview.changes.map((c) => c.leadId)).toHaveLength(1);
    expect(await w.snapshot()).toEqual(before);
  });
});
