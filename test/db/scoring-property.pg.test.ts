import { and, eq, inArray } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { leads, leadScores } from "../../drizzle/schema.ts";
import { recordInteractions } from "../../server/services/scoring-counters.ts";
import { dayMs, type BehaviorCondition, type InteractionType, type ScoringCondition } from "../../shared/domain/scoring.ts";
import type { ScoringModelView } from "../../shared/schemas/scoring.ts";
import { makeContact } from "../support/builders.ts";
import { drivers } from "../support/databases.ts";
import { modelInput, scoringWorld } from "../support/scoring.ts";

/**
 * Incremental scoring (counters, the queue, window expiries) must always agree with a full
 * recomputation from the interactions table. Random models, records and interaction streams;
 * each run uses its own contacts, accounts, leads and models, and takes its models back to
 * draft at the end, so runs do not see each other.
 */

const types = ["email_opened", "form_submitted", "website_visited"] as const satisfies readonly InteractionType[];
const campaigns = ["a", "b", null] as const;

const behaviour: fc.Arbitrary<BehaviorCondition> = fc
  .record({
    interaction: fc.constantFrom(...types),
    points: fc.integer({ min: -5, max: 12 }),
    frequency: fc.constantFrom("each", "once", "none"),
    minCount: fc.integer({ min: 1, max: 3 }),
    withinDays: fc.option(fc.constantFrom(1, 2, 5), { nil: undefined }),
    sameContext: fc.boolean(),
  })
  .map(({ interaction, points, frequency, minCount, withinDays, sameContext }) => ({
    kind: "behavior",
    interaction,
    points,
    frequency,
    ...(frequency === "once" ? { minCount } : {}),
    ...(withinDays !== undefined ? { withinDays } : {}),
    ...(sameContext ? { sameContext: true } : {}),
  }));

const modelSpec = fc.record({
  target: fc.constantFrom("contact", "account"),
  behaviours: fc.array(behaviour, { minLength: 1, maxLength: 4 }),
  /** 0: none; 1: the contact's job title (contact models only); 2: the account's industry. */
  field: fc.constantFrom(0, 1, 2),
  grades: fc.boolean(),
  threshold: fc.integer({ min: 5, max: 40 }),
  keepSalesReady: fc.boolean(),
});

/** How long ago an interaction happened: mostly the past (window edges included), sometimes a little ahead (another clock). */
const age = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 7 * dayMs }) },
  { weight: 2, arbitrary: fc.constantFrom(0, dayMs, 2 * dayMs, 5 * dayMs) },
  { weight: 1, arbitrary: fc.integer({ min: -4 * 60_000, max: -1 }) },
);

const interaction = fc.record({ contact: fc.nat(), type: fc.constantFrom(...types), age, campaign: fc.constantFrom(...campaigns) });

const step = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("record" as const), items: fc.array(interaction, { minLength: 1, maxLength: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.oneof(fc.integer({ min: 1, max: 3 * dayMs }), fc.constantFrom(60_000, dayMs)) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("drain" as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("campaign" as const), lead: fc.nat(), campaign: fc.constantFrom(...campaigns) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("relinkContact" as const), lead: fc.nat(), contact: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("moveContact" as const), contact: fc.nat(), account: fc.constantFrom(0, 1, null) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("jobTitle" as const), contact: fc.nat(), director: fc.boolean() }) },
);

const scenario = fc.record({
  /** One or two live models at once: a lead gets a score under each. */
  models: fc.array(modelSpec, { minLength: 1, maxLength: 2 }),
  industries: fc.tuple(fc.constantFrom("software", "retail"), fc.constantFrom("software", "retail")),
  contacts: fc.array(fc.record({ account: fc.constantFrom(0, 1, null), director: fc.boolean() }), { minLength: 2, maxLength: 5 }),
  leads: fc.array(
    fc.record({
      /** "none": unscorable; "both": a contact and an account of its own (maybe not the contact's). */
      kind: fc.constantFrom("contact", "account", "both", "none"),
      contact: fc.nat(),
      account: fc.constantFrom(0, 1),
      campaign: fc.constantFrom(...campaigns),
      /** Created before the first step (0), or after step n. */
      createdAfter: fc.nat({ max: 12 }),
    }),
    { minLength: 1, maxLength: 5 },
  ),
  /** The models go live before the first step (0), or after step n: later is the background rescore's path. */
  publishedAfter: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 10 }) }),
  steps: fc.array(step, { minLength: 3, maxLength: 18 }),
  finalJump: fc.integer({ min: 1, max: 6 * dayMs }),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function conditionsOf(m: Scenario["models"][number]): ScoringCondition[] {
  const conditions: ScoringCondition[] = [...m.behaviours];
  if (m.field === 1 && m.target === "contact") conditions.push({ kind: "contact", field: "jobTitle", op: "contains", value: "director", points: 6 });
  if (m.field === 2) conditions.push({ kind: "account", field: "industry", op: "eq", value: "software", points: 4 });
  return conditions;
}

const grades = [
  { grade: "C", min: -1000, max: 9 },
  { grade: "B", min: 10, max: 24 },
  { grade: "A", min: 25, max: 1000 },
];

describe.each(drivers)("incremental scoring equals full recomputation on %s", (driver) => {
  const w = scoringWorld(driver);
  const { clock, db, s, drain } = w;
  const version = async (leadId: string) => (await db().select({ v: leads.version }).from(leads).where(eq(leads.id, leadId)))[0]!.v;

  /** What the worker stored against what a full recomputation gives, for these leads, now. */
  async function compare(live: ScoringModelView, leadIds: string[], when: string) {
    const full = await s().scoringModels.evaluateAll(db(), live, leadIds, clock.now());
    const rows = await db()
      .select()
      .from(leadScores)
      .where(and(eq(leadScores.modelId, live.id), inArray(leadScores.leadId, leadIds)));
    const stored = new Map(rows.map((r) => [r.leadId, { score: r.score, grade: r.grade, breakdown: r.breakdown }]));
    const expected = new Map([...full].map(([id, e]) => [id, { score: e.score, grade: e.grade, breakdown: e.breakdown }]));
    expect(stored, when).toEqual(expected);
  }

  /** One run: its own records and models, played step by step; the models go back to draft even when the run fails. */
  async function run(sc: Scenario, runId: number) {
    const models: ScoringModelView[] = [];
    try {
      await play(sc, runId, models);
    } finally {
      // fast-check shrinks a failure by running again: the next run must not see these models.
      for (const model of models) await s().scoringModels.update(w.admin, model.id, { status: "draft" }, clock.now());
      await w.server.app.scoring.rescores.idle();
    }
    const left = await db().select().from(leadScores).where(inArray(leadScores.modelId, models.map((m) => m.id)));
    expect(left).toEqual([]);
  }

  async function play(sc: Scenario, runId: number, models: ScoringModelView[]) {
    const now = () => clock.now();
    const accounts = [
      await s().records.createAccount(w.admin, { name: `Run ${runId} first`, industry: sc.industries[0] }, now()),
      await s().records.createAccount(w.admin, { name: `Run ${runId} second`, industry: sc.industries[1] }, now()),
    ];
    const contacts: Array<Awaited<ReturnType<typeof makeContact>>> = [];
    for (const c of sc.contacts) {
      contacts.push(await makeContact(db(), { accountId: c.account === null ? null : accounts[c.account]!.id, jobTitle: c.director ? "Sales Director" : "Engineer" }));
    }
    const contactAt = (n: number) => contacts[n % contacts.length]!;
    const leadIds: Array<string | undefined> = sc.leads.map(() => undefined);
    const createLeads = async (after: number) => {
      for (const [i, spec] of sc.leads.entries()) {
        if (spec.createdAfter !== after || leadIds[i]) continue;
        const contactId = spec.kind === "contact" || spec.kind === "both" ? contactAt(spec.contact).id : null;
        const accountId = spec.kind === "account" || spec.kind === "both" ? accounts[spec.account]!.id : null;
        const card = await s().leads.create(w.admin, { topic: `Run ${runId} lead ${i}`, contactId, accountId, campaign: spec.campaign }, now());
        leadIds[i] = card.id;
      }
    };
    const publish = async () => {
      for (const [i, m] of sc.models.entries()) {
        const { model } = await s().scoringModels.create(
          w.admin,
          modelInput(conditionsOf(m), {
            name: `Run ${runId} model ${i}`,
            target: m.target,
            threshold: m.threshold,
            keepSalesReady: m.keepSalesReady,
            grades: m.grades ? grades : [],
          }),
          now(),
        );
        models.push(model);
      }
      await w.server.app.scoring.rescores.idle();
    };
    const existingLead = (n: number) => {
      const ids = leadIds.filter((id): id is string => id !== undefined);
      return ids.length === 0 ? undefined : ids[n % ids.length];
    };

    if (sc.publishedAfter === 0) await publish();
    await createLeads(0);
    for (const [index, st] of sc.steps.entries()) {
      switch (st.op) {
        case "record":
          await db().transaction((tx) =>
            recordInteractions(
              tx,
              st.items.map((item) => ({
                type: item.type,
                contactId: contactAt(item.contact).id,
                occurredAt: new Date(now().getTime() - item.age),
                campaign: item.campaign,
              })),
              now(),
            ),
          );
          break;
        case "advance":
          clock.advance(st.ms);
          break;
        case "drain":
          await drain();
          break;
        case "campaign": {
          const id = existingLead(st.lead);
          if (id) await s().records.updateLead(w.admin, id, { expectedVersion: await version(id), campaign: st.campaign }, now());
          break;
        }
        case "relinkContact": {
          const id = existingLead(st.lead);
          const spec = sc.leads[leadIds.indexOf(id)];
          if (id && spec && spec.kind !== "account" && spec.kind !== "none") {
            await s().records.updateLead(w.admin, id, { expectedVersion: await version(id), contactId: contactAt(st.contact).id }, now());
          }
          break;
        }
        case "moveContact":
          await s().records.updateContact(w.admin, contactAt(st.contact).id, { accountId: st.account === null ? null : accounts[st.account]!.id }, now());
          break;
        case "jobTitle":
          await s().records.updateContact(w.admin, contactAt(st.contact).id, { jobTitle: st.director ? "Director of IT" : "Analyst" }, now());
          break;
      }
      if (sc.publishedAfter === index + 1) await publish();
      await createLeads(index + 1);
    }
    if (models.length === 0) await publish();
    for (const spec of sc.leads) await createLeads(spec.createdAfter);
    const ids = leadIds.filter((id): id is string => id !== undefined);

    await drain();
    for (const model of models) await compare(model, ids, `${model.name}, after the last step`);
    clock.advance(sc.finalJump);
    await drain();
    for (const model of models) await compare(model, ids, `${model.name}, after the clock jumped`);
  }

  it("after random models, records and interaction streams, stored scores equal evaluateAll", { timeout: 120_000 }, async () => {
    let runId = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        await run(sc, ++runId);
      }),
      { numRuns: 25, interruptAfterTimeLimit: 90_000, markInterruptAsFailure: true },
    );
  });
});
