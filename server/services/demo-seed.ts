import { randomUUID } from "node:crypto";
import { count, eq, sql } from "drizzle-orm";
import { accounts, contacts, leadHistory, leads, stages } from "../../drizzle/schema.ts";
import { ranksAfter } from "../../shared/domain/ranks.ts";
import { dayMs } from "../../shared/domain/scoring.ts";
import type { Role } from "../../shared/schemas/common.ts";
import { scoringModelInput } from "../../shared/schemas/scoring.ts";
import type { Db } from "../db/client.ts";
import { findDefaultBoard, listStages } from "../repositories/boards.ts";
import { normalizeEmail } from "../repositories/contacts.ts";
import * as matching from "../repositories/matching.ts";
import type { Actor } from "./actor.ts";
import type { AuthService } from "./auth-service.ts";
import { colleagueActivity, contactActivity, type ActivityContext, type PlannedInteraction } from "./demo-activity.ts";
import {
  accountTopics,
  campaigns,
  companies,
  contactCountries,
  demoEvents,
  demoForms,
  demoModels,
  domainOf,
  emailFor,
  firstNames,
  jobTitles,
  lastNames,
  personalEmailDomain,
  pick,
  pickWeighted,
  seededRandom,
  targetIndustries,
  topics,
} from "./demo-data.ts";
import type { EventService } from "./event-service.ts";
import type { FormService } from "./form-service.ts";
import type { RescoreJobs } from "./rescore-jobs.ts";
import { recordInteractions } from "./scoring-counters.ts";
import type { ScoringModelService } from "./scoring-model-service.ts";
import { backfillKeys } from "./strategy-service.ts";

export const demoPassword = "demo-pipeline";

export const demoUsers: Array<{ email: string; name: string; role: Role }> = [
  { email: "admin@demo.example", name: "Alex Admin", role: "admin" },
  { email: "marketer@demo.example", name: "Mia Marketer", role: "marketer" },
  { email: "telemarketer@demo.example", name: "Theo Telemarketer", role: "telemarketer" },
  { email: "manager@demo.example", name: "Sam Sales-Manager", role: "sales_manager" },
  { email: "sales@demo.example", name: "Sofia Salesperson", role: "salesperson" },
  { email: "sales2@demo.example", name: "Sean Salesperson", role: "salesperson" },
  { email: "viewer@demo.example", name: "Vic Viewer", role: "viewer" },
];

type StageKey = "inquiry" | "automated_marketing_qualification" | "teleprospecting_acceptance" | "teleprospecting_qualification" | "sales_acceptance";

/**
 * Where the demo's 320 leads are placed, who they belong to, and what their contact's
 * engagement is worth under the contact model. Live scoring then does what it always does:
 * a first score takes a lead out of Inquiry, reaching the threshold jumps a lead in Inquiry
 * or marketing qualification to Sales acceptance. Leads people moved into teleprospecting
 * stay there (their accounts are kept calm, so the account model does not move them).
 */
interface LeadGroup {
  stage: StageKey;
  count: number;
  parent: "contact" | "account" | "none";
  /** Contact model score the contact's engagement aims at. */
  score?: [number, number];
  ageDays: [number, number];
  /** How long its leads have waited in their stage, spread across the stage's limits so cards show ok, amber and red (default: since created). */
  inStageDays?: [number, number];
  /** Whether leads may belong to the accounts the demo makes hot (they would jump on the account model). */
  hotAccounts: "allow" | "avoid" | "some";
  note?: string;
}

const leadGroups: LeadGroup[] = [
  { stage: "inquiry", count: 26, parent: "none", ageDays: [0, 4], hotAccounts: "avoid", note: "unscorable until someone links a contact or account" },
  { stage: "inquiry", count: 44, parent: "contact", score: [0, 35], ageDays: [0, 3], hotAccounts: "allow", note: "new: the first score takes them to marketing qualification" },
  { stage: "automated_marketing_qualification", count: 80, parent: "contact", score: [10, 90], ageDays: [2, 30], inStageDays: [0, 7], hotAccounts: "allow" },
  { stage: "automated_marketing_qualification", count: 19, parent: "contact", score: [100, 150], ageDays: [4, 30], inStageDays: [0, 7], hotAccounts: "allow", note: "reach the threshold: sales-ready by score" },
  { stage: "automated_marketing_qualification", count: 16, parent: "account", ageDays: [3, 30], inStageDays: [0, 7], hotAccounts: "some" },
  { stage: "teleprospecting_acceptance", count: 45, parent: "contact", score: [30, 90], ageDays: [5, 30], inStageDays: [0, 9], hotAccounts: "avoid" },
  { stage: "teleprospecting_qualification", count: 37, parent: "contact", score: [40, 95], ageDays: [7, 30], inStageDays: [0, 9], hotAccounts: "avoid" },
  { stage: "teleprospecting_qualification", count: 3, parent: "account", ageDays: [7, 30], inStageDays: [0, 9], hotAccounts: "avoid" },
  { stage: "sales_acceptance", count: 39, parent: "contact", score: [100, 170], ageDays: [8, 30], inStageDays: [0, 7], hotAccounts: "allow", note: "sales-ready by score earlier" },
  { stage: "sales_acceptance", count: 8, parent: "contact", score: [60, 99], ageDays: [10, 30], inStageDays: [0, 7], hotAccounts: "avoid", note: "marked sales-ready by a telemarketer" },
  { stage: "sales_acceptance", count: 3, parent: "account", ageDays: [8, 30], inStageDays: [0, 7], hotAccounts: "some" },
];

/** Accounts whose buying group is busy: their account score is past the account model's threshold. */
const hotAccountNames = ["Contoso Pharmaceuticals", "Adatum Corporation"];

export interface DemoSeedResult {
  users: number;
  leads: number;
  models: number;
  interactions: number;
  /** Open leads per stage once scoring has run. */
  stages: Record<string, number>;
  salesReady: number;
  unscorable: number;
  ms: number;
}

export async function isDatabaseEmpty(db: Db): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(leads);
  return (row?.n ?? 0) === 0;
}

/**
 * Loads the demo organisation into an empty database: users for every role, forms and
 * events, accounts, contacts and 320 leads with the flags their stages need, a month of
 * interactions, and two live scoring models. Publishing the models rescores every lead
 * through live scoring, so scores, grades, sales-ready marks and the moves they cause are
 * real (and on the board's event log) before the server starts listening.
 */
export async function seedDemo(
  db: Db,
  app: {
    services: { auth: AuthService; forms: FormService; events: EventService; scoringModels: ScoringModelService };
    scoring: { rescores: RescoreJobs };
  },
  now: Date,
): Promise<DemoSeedResult> {
  const started = performance.now();
  const { services } = app;
  const random = seededRandom(20261122);
  const at = now.getTime();
  const board = await findDefaultBoard(db);
  if (!board) throw new Error("the default process is missing; migrations did not run");
  const stageList = await listStages(db, board.processId);
  const stageByKey = new Map(stageList.map((s) => [s.key, s]));

  const userIds: Record<string, string> = {};
  for (const user of demoUsers) {
    const created = await services.auth.createUser({ ...user, password: demoPassword });
    userIds[user.email] = created.id;
  }
  const salespeople = [userIds["sales@demo.example"]!, userIds["sales2@demo.example"]!];
  const admin: Actor = { id: userIds["admin@demo.example"]!, name: "Demo seed", kind: "system", role: "admin" };

  const forms = [];
  for (const form of demoForms) forms.push(await services.forms.create(admin, form, now));
  const events = [];
  for (const event of demoEvents) {
    // On the hour; today's event starts within the next two hours, so check-ins make sense.
    const startsAt = new Date((Math.floor((at + event.startsInDays * dayMs) / 3_600_000) + 1) * 3_600_000);
    events.push(await services.events.create(admin, { name: event.name, startsAt: startsAt.toISOString(), campaign: event.campaign }, now));
  }
  const context: ActivityContext = {
    now: at,
    forms: forms.map((f) => ({ id: f.id, campaign: f.campaign })),
    events: events.map((e) => ({ id: e.id, startsAt: new Date(e.startsAt).getTime(), campaign: e.campaign })),
  };

  const { accountRows, contactRows, leadRows, historyRows, planned } = planOrganisation(random, context, {
    processId: board.processId,
    stages: stageByKey,
    forms,
    events,
    salespeople,
  });
  await db.transaction(async (tx) => {
    await tx.insert(accounts).values(accountRows);
    for (const chunk of chunks(contactRows, 500)) await tx.insert(contacts).values(chunk);
    for (const chunk of chunks(leadRows, 500)) await tx.insert(leads).values(chunk);
    for (const chunk of chunks(historyRows, 500)) await tx.insert(leadHistory).values(chunk);
  });

  // A month of interactions, through the same path integrations use. No model is live yet,
  // so this only records them; publishing the models below counts them.
  const records = planned.flatMap(({ contactId, items }) => items.map((p) => ({ ...p, contactId, occurredAt: p.at })));
  records.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
  for (const chunk of chunks(records, 1_000)) await db.transaction((tx) => recordInteractions(tx, chunk, now));

  // The seed wrote contacts and leads directly: give every strategy their keys, so submissions match them.
  for (const strategy of await matching.listStrategies(db)) await backfillKeys(db, strategy);

  for (const model of demoModels) await services.scoringModels.create(admin, scoringModelInput.parse(model), now);
  await app.scoring.rescores.idle();

  return {
    users: demoUsers.length,
    leads: leadRows.length,
    models: demoModels.length,
    interactions: records.length,
    ...(await summary(db)),
    ms: Math.round(performance.now() - started),
  };
}

type PlanRefs = {
  processId: string;
  stages: ReadonlyMap<string, { id: string; position: number }>;
  forms: ReadonlyArray<{ id: string; campaign: string | null }>;
  events: ReadonlyArray<{ id: string; startsAt: Date | string; campaign: string | null }>;
  salespeople: readonly string[];
};

/**
 * The demo organisation as plain rows (accounts, contacts, leads, their first history entry)
 * and the interactions each contact is to have: decided here, written by the caller.
 */
function planOrganisation(random: () => number, context: ActivityContext, refs: PlanRefs) {
  const at = context.now;
  const { forms, events, salespeople } = refs;
  const accountRows = companies.map(([name, industry, country, employeeCount]) => ({
    id: randomUUID(),
    name,
    industry,
    country,
    employeeCount,
    annualRevenue: employeeCount * 150_000,
    websiteDomain: domainOf(name),
    createdAt: new Date(at - 90 * dayMs),
    updatedAt: new Date(at - 90 * dayMs),
  }));
  const hot = accountRows.filter((a) => hotAccountNames.includes(a.name));
  const calm = accountRows.filter((a) => !hotAccountNames.includes(a.name));
  // Dealt in turn rather than at random, so every account has a handful of people.
  const deck = { all: shuffled(random, accountRows), calm: shuffled(random, calm), i: 0, j: 0 };
  const nextAccount = (mode: LeadGroup["hotAccounts"]) =>
    mode === "avoid" ? deck.calm[deck.j++ % deck.calm.length]! : mode === "some" && random() < 0.35 ? pick(random, hot) : deck.all[deck.i++ % deck.all.length]!;

  const contactRows: Array<typeof contacts.$inferInsert> = [];
  const leadRows: Array<typeof leads.$inferInsert> = [];
  const historyRows: Array<typeof leadHistory.$inferInsert> = [];
  const planned: Array<{ contactId: string; items: PlannedInteraction[] }> = [];
  const ranks = new Map([...refs.stages.keys()].map((key) => [key, ranksAfter(null, leadGroups.filter((g) => g.stage === key).reduce((n, g) => n + g.count, 0))]));
  const placed = new Map<string, number>();
  let serial = 0;

  const newContact = (account: (typeof accountRows)[number], createdAt: Date, source: "form" | "event" | "linkedin" | "import") => {
    const first = pick(random, firstNames);
    const last = pick(random, lastNames);
    const personal = random() < 0.08;
    const email = emailFor(first, last, personal ? personalEmailDomain : account.websiteDomain, ++serial);
    const row = {
      id: randomUUID(),
      email,
      emailNormalized: normalizeEmail(email),
      firstName: first,
      lastName: last,
      jobTitle: pick(random, jobTitles),
      country: pick(random, contactCountries),
      accountId: account.id,
      source,
      createdAt,
      updatedAt: createdAt,
    };
    contactRows.push(row);
    return row;
  };

  for (const group of leadGroups) {
    const stage = refs.stages.get(group.stage);
    if (!stage) throw new Error(`the default process has no stage ${group.stage}`);
    for (let i = 0; i < group.count; i++) {
      const [minAge, maxAge] = group.ageDays;
      const createdAt = new Date(at - (minAge + random() * (maxAge - minAge)) * dayMs);
      const enteredAt = group.inStageDays ? inStageSince(random, at, createdAt, group.inStageDays) : createdAt;
      const account = group.parent === "none" ? null : nextAccount(group.hotAccounts);
      let contactId: string | null = null;
      const contactSource = pickWeighted(random, [["form", 45], ["event", 15], ["linkedin", 20], ["import", 20]] as const);
      const source = group.parent === "contact" ? contactSource : pick(random, ["manual", "import"] as const);
      let formId: string | null = null;
      let eventId: string | null = null;
      let campaign: string | null = pick(random, campaigns);
      if (group.parent === "contact" && account) {
        const origin: PlannedInteraction[] = [];
        if (source === "form") {
          const form = pick(random, forms);
          formId = form.id;
          campaign = form.campaign ?? campaign;
          origin.push({ type: "form_submitted", at: createdAt, formId, eventId: null, campaign, url: null });
        } else if (source === "event") {
          const event = events.find((e) => new Date(e.startsAt).getTime() > createdAt.getTime()) ?? events[events.length - 1]!;
          eventId = event.id;
          campaign = event.campaign ?? campaign;
          origin.push({ type: "event_registered", at: createdAt, formId: null, eventId, campaign, url: null });
          const start = new Date(event.startsAt).getTime();
          if (start < at - dayMs && random() < 0.7) origin.push({ type: "event_attended", at: new Date(start + 3_600_000), formId: null, eventId, campaign, url: null });
        }
        const contact = newContact(account, createdAt, contactSource);
        contactId = contact.id;
        const [min, max] = group.score!;
        const target = min + Math.floor(Math.pow(random(), group.stage === "automated_marketing_qualification" ? 1.5 : 1) * (max - min + 1));
        const items = contactActivity(random, target - fitPoints(contact, account), origin, context);
        planned.push({ contactId, items });
        const earliest = Math.min(createdAt.getTime(), ...items.map((p) => p.at.getTime()));
        contact.createdAt = contact.updatedAt = new Date(earliest);
      } else if (group.parent === "none") {
        campaign = random() < 0.5 ? campaign : null;
      }
      const position = placed.get(group.stage) ?? 0;
      placed.set(group.stage, position + 1);
      const handMarked = group.stage === "sales_acceptance" && (group.score?.[1] ?? 0) < 100;
      const id = randomUUID();
      leadRows.push({
        id,
        topic: group.parent === "account" ? pick(random, accountTopics) : pick(random, topics),
        contactId,
        accountId: account?.id ?? null,
        campaign,
        formId,
        eventId,
        source,
        processId: refs.processId,
        stageId: stage.id,
        rank: ranks.get(group.stage)![position]!,
        readyForTeleprospecting: stage.position === 2 || stage.position === 3 || handMarked,
        teleprospectingAccepted: stage.position === 3 || handMarked,
        salesReady: stage.position >= 4,
        ownerId: stage.position >= 4 ? pick(random, salespeople) : null,
        stageEnteredAt: enteredAt,
        createdAt,
        updatedAt: enteredAt,
      });
      historyRows.push({ leadId: id, toStageId: stage.id, reason: "automation", note: group.note ?? "demo data", actorName: "Demo seed", at: enteredAt });
    }
  }
  // Colleagues without leads of their own: the rest of each account's buying group.
  for (const account of accountRows) {
    const busy = hot.includes(account);
    const colleagues = busy ? 8 : 1 + Math.floor(random() * 2);
    for (let i = 0; i < colleagues; i++) {
      const items = colleagueActivity(random, busy, at);
      // Newsletter readers from an imported list.
      const contact = newContact(account, new Date(Math.min(...items.map((p) => p.at.getTime()), at - 30 * dayMs)), "import");
      planned.push({ contactId: contact.id, items });
    }
  }

  return { accountRows, contactRows, leadRows, historyRows, planned };
}

/** When a lead entered its stage: `[min, max]` days before `at`, never before it was created. */
function inStageSince(random: () => number, at: number, createdAt: Date, [min, max]: [number, number]): Date {
  return new Date(Math.max(createdAt.getTime(), at - (min + random() * (max - min)) * dayMs));
}

/** What the contact model gives a contact for who they are, before anything they did. */
function fitPoints(contact: { jobTitle: string; email: string }, account: { industry: string }): number {
  const title = contact.jobTitle.toLowerCase();
  let points = ["director", "vp", "head"].some((word) => title.includes(word)) ? 15 : 0;
  if (targetIndustries.includes(account.industry)) points += 10;
  if (contact.email.includes("gmail")) points -= 10;
  return points;
}

async function summary(db: Db): Promise<Pick<DemoSeedResult, "stages" | "salesReady" | "unscorable">> {
  const perStage = await db
    .select({ key: stages.key, n: sql<number>`count(*)::int` })
    .from(leads)
    .innerJoin(stages, eq(stages.id, leads.stageId))
    .where(eq(leads.status, "open"))
    .groupBy(stages.key, stages.position)
    .orderBy(stages.position);
  const [facts] = await db
    .select({
      salesReady: sql<number>`count(*) filter (where ${leads.salesReady})::int`,
      unscorable: sql<number>`count(*) filter (where ${leads.contactId} is null and ${leads.accountId} is null)::int`,
    })
    .from(leads);
  return {
    stages: Object.fromEntries(perStage.map((r) => [r.key, Number(r.n)])),
    salesReady: Number(facts?.salesReady ?? 0),
    unscorable: Number(facts?.unscorable ?? 0),
  };
}

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
