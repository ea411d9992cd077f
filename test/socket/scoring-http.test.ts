import { randomUUID } from "node:crypto";
import { and, asc, count, eq, isNotNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { interactions, leads, leadScores, scoringModels } from "../../drizzle/schema.ts";
import * as contactsRepo from "../../server/repositories/contacts.ts";
import type { Actor } from "../../server/services/actor.ts";
import { dayMs, type ScoringCondition } from "../../shared/domain/scoring.ts";
import type { Role } from "../../shared/schemas/common.ts";
import type { ModelInsights, ScoreExplanation, ScorePreview, ScoringModelView } from "../../shared/schemas/scoring.ts";
import { makeContact, makeUser } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { modelInput, startScoringApp, TestClock } from "../support/scoring.ts";
import { login } from "../support/server.ts";

interface ErrorJson {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}
interface Ingested {
  accepted: number;
  rejected: Array<{ index: number; error: { code: string; message: string; details?: Array<{ field: string; message: string }> } }>;
}

interface Request {
  method?: string;
  json?: unknown;
  /** A raw body, sent as is with `contentType`. */
  raw?: string;
  contentType?: string;
  /** A session cookie; null for none. Defaults to the admin's. */
  as?: string | null;
  bearer?: string;
}

let serial = 0;
const unique = () => `${Date.now().toString(36)}${++serial}`;

/** A private database and app per block, so counts over "every lead" are exact. */
function openWorld(driver: (typeof drivers)[number]) {
  const clock = new TestClock();
  const w = {
    clock,
    t: undefined as unknown as TestDatabase,
    server: undefined as unknown as Awaited<ReturnType<typeof startScoringApp>>,
    admin: undefined as unknown as Actor,
    cookies: {} as Record<Role, string>,
    ingestKey: "",
    readKey: "",
    db: () => w.t.database.db,
    async api<T = unknown>(path: string, init: Request = {}): Promise<{ status: number; body: T }> {
      const headers: Record<string, string> = {};
      if (init.as !== null) headers.cookie = init.as ?? w.cookies.admin;
      if (init.bearer !== undefined) headers.authorization = `Bearer ${init.bearer}`;
      let body: string | undefined;
      if (init.raw !== undefined) {
        body = init.raw;
        headers["content-type"] = init.contentType ?? "application/json";
      } else if (init.json !== undefined) {
        body = JSON.stringify(init.json);
        headers["content-type"] = "application/json";
      }
      const res = await fetch(`${w.server.url}/api${path}`, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    ingest: (items: unknown, init: Request = {}) => w.api<Ingested>("/interactions", { as: null, bearer: w.ingestKey, json: items, ...init }),
    drain: () => w.server.app.scoring.worker.drain(),
    async settle() {
      await w.server.app.scoring.rescores.idle();
      await w.drain();
    },
    async publish(conditions: ScoringCondition[], overrides: Parameters<typeof modelInput>[1] = {}): Promise<ScoringModelView> {
      const res = await w.api<{ model: ScoringModelView }>("/scoring-models", { json: modelInput(conditions, { status: "live", ...overrides }) });
      expect(res.status).toBe(201);
      await w.settle();
      return res.body.model;
    },
    async retire(id: string) {
      const res = await w.api(`/scoring-models/${id}`, { method: "PATCH", json: { status: "draft" } });
      expect(res.status).toBe(200);
      await w.settle();
    },
    async lead(overrides: { contactId?: string | null; accountId?: string | null; topic?: string } = {}) {
      return w.server.app.services.leads.create(w.admin, { topic: overrides.topic ?? `Lead ${unique()}`, ...overrides }, clock.now());
    },
    async scoreOf(leadId: string, modelId: string) {
      const res = await w.api<{ scores: ScoreExplanation[] }>(`/leads/${leadId}/scores`);
      expect(res.status).toBe(200);
      return res.body.scores.find((s) => s.modelId === modelId);
    },
    async snapshot() {
      const db = w.db();
      return {
        scores: await db.select().from(leadScores).orderBy(asc(leadScores.leadId), asc(leadScores.modelId)),
        models: await db.select().from(scoringModels).orderBy(asc(scoringModels.id)),
        leads: await db.select().from(leads).orderBy(asc(leads.id)),
      };
    },
    async interactionCount() {
      return (await w.db().select({ n: count() }).from(interactions))[0]!.n;
    },
  };

  beforeAll(async () => {
    w.t = await openTestDatabase(driver);
    w.server = await startScoringApp(w.t.database, clock);
    const auth = w.server.app.services.auth;
    const roles: Role[] = ["admin", "marketer", "telemarketer", "sales_manager", "salesperson", "viewer"];
    for (const role of roles) {
      const { user, actor } = await makeUser(auth, role);
      if (role === "admin") w.admin = actor;
      w.cookies[role] = await login(w.server.url, user.email);
    }
    const key = async (scopes: string[]) => {
      const res = await w.api<{ key: string }>("/api-keys", { json: { name: `Key ${scopes.join("+")}`, scopes } });
      expect(res.status).toBe(201);
      return res.body.key;
    };
    w.ingestKey = await key(["ingest"]);
    w.readKey = await key(["read", "write"]);
  });
  afterAll(async () => {
    await w.server?.close();
    await w.t?.close();
  });
  return w;
}

const formEach: ScoringCondition = { kind: "behavior", interaction: "form_submitted", points: 10, frequency: "each" };
const bands = [
  { grade: "Cold", min: 0, max: 39 },
  { grade: "Hot", min: 40, max: 1000 },
];

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

    const explained = await w.api<{ scores: ScoreExplanation[] }>(`/leads/${lead.id}/scores`, { as: w.cookies.salesperson });
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
