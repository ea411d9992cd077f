import { count } from "drizzle-orm";
import { accounts, contacts, leads, leadScores, leadHistory, scoringModels } from "../../drizzle/schema.ts";
import { ranksAfter } from "../../shared/domain/ranks.ts";
import type { Role } from "../../shared/schemas/common.ts";
import type { Db } from "../db/client.ts";
import { findDefaultBoard, listStages } from "../repositories/boards.ts";
import { normalizeEmail } from "../repositories/contacts.ts";
import * as matching from "../repositories/matching.ts";
import type { AuthService } from "./auth-service.ts";
import type { EventService } from "./event-service.ts";
import type { FormService } from "./form-service.ts";
import { backfillKeys } from "./strategy-service.ts";
import { campaigns, companies, firstNames, jobTitles, lastNames, pick, seededRandom, topics } from "./demo-data.ts";

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

/** How many demo leads sit in each stage, and the score range they start with. */
const stagePlan: Record<string, { leads: number; score: [number, number] }> = {
  inquiry: { leads: 110, score: [0, 30] },
  automated_marketing_qualification: { leads: 90, score: [20, 95] },
  teleprospecting_acceptance: { leads: 45, score: [40, 95] },
  teleprospecting_qualification: { leads: 35, score: [50, 99] },
  sales_acceptance: { leads: 40, score: [100, 160] },
};

const grades = [
  { grade: "A", min: 100, max: 100000 },
  { grade: "B", min: 60, max: 99 },
  { grade: "C", min: 30, max: 59 },
  { grade: "D", min: -100000, max: 29 },
];

export async function isDatabaseEmpty(db: Db): Promise<boolean> {
  const [row] = await db.select({ n: count() }).from(leads);
  return (row?.n ?? 0) === 0;
}

/**
 * Loads the demo organisation into an empty database in one transaction: users for
 * every role, accounts, contacts and 320 leads spread over the five stages with the
 * flags their gates need. The board starts at seq 0 with these leads on it.
 */
export async function seedDemo(
  db: Db,
  services: { auth: AuthService; forms: FormService; events: EventService },
  now: Date,
): Promise<{ users: number; leads: number }> {
  const random = seededRandom(20261122);
  const board = await findDefaultBoard(db);
  if (!board) throw new Error("the default process is missing; migrations did not run");
  const stageList = await listStages(db, board.processId);

  const userIds: Record<string, string> = {};
  for (const user of demoUsers) {
    const created = await services.auth.createUser({ ...user, password: demoPassword });
    userIds[user.email] = created.id;
  }
  const salespeople = [userIds["sales@demo.example"]!, userIds["sales2@demo.example"]!];

  let leadCount = 0;
  await db.transaction(async (tx) => {
    const [model] = await tx
      .insert(scoringModels)
      .values({
        name: "Demo engagement model",
        target: "contact",
        threshold: 100,
        status: "live",
        grades,
        conditions: [
          { kind: "behavior", interaction: "form_submitted", points: 20, frequency: "each" },
          { kind: "behavior", interaction: "email_clicked", points: 5, frequency: "each", withinDays: 30 },
          { kind: "contact", field: "jobTitle", op: "contains", value: "Director", points: 15 },
        ],
      })
      .returning({ id: scoringModels.id });

    const accountRows = await tx
      .insert(accounts)
      .values(
        companies.map(([name, industry, country, employeeCount]) => ({
          name,
          industry,
          country,
          employeeCount,
          websiteDomain: `${name.toLowerCase().replace(/[^a-z]+/g, "")}.example`,
        })),
      )
      .returning({ id: accounts.id, name: accounts.name });

    for (const stage of stageList) {
      const plan = stagePlan[stage.key];
      if (!plan) continue;
      const ranks = ranksAfter(null, plan.leads);
      for (let i = 0; i < plan.leads; i++) {
        // A few inquiries arrive with no contact or account: unscorable until someone links them.
        const orphan = stage.key === "inquiry" && i % 9 === 4;
        const account = pick(random, accountRows);
        const first = pick(random, firstNames);
        const last = pick(random, lastNames);
        let contactId: string | null = null;
        if (!orphan) {
          const email = `${first}.${last}.${leadCount}@${account.name.toLowerCase().replace(/[^a-z]+/g, "")}.example`
            .normalize("NFD")
            .replace(/[\u0300-\u036f]/g, "")
            .toLowerCase();
          const [contact] = await tx
            .insert(contacts)
            .values({
              email,
              emailNormalized: normalizeEmail(email),
              firstName: first,
              lastName: last,
              jobTitle: pick(random, jobTitles),
              country: pick(random, ["US", "DE", "FR", "GB", "NL", "SE"]),
              accountId: account.id,
              source: "form",
            })
            .returning({ id: contacts.id });
          contactId = contact!.id;
        }
        const enteredAt = new Date(now.getTime() - Math.floor(random() * 14 * 24 * 3600 * 1000));
        const [lead] = await tx
          .insert(leads)
          .values({
            topic: pick(random, topics),
            contactId,
            accountId: orphan ? null : account.id,
            campaign: pick(random, campaigns),
            source: orphan ? "manual" : pick(random, ["form", "event", "linkedin", "import"] as const),
            processId: board.processId,
            stageId: stage.id,
            rank: ranks[i]!,
            readyForTeleprospecting: stage.position >= 2,
            teleprospectingAccepted: stage.position >= 3,
            salesReady: stage.position >= 4,
            ownerId: stage.position >= 4 ? pick(random, salespeople) : null,
            stageEnteredAt: enteredAt,
            createdAt: enteredAt,
            updatedAt: enteredAt,
          })
          .returning({ id: leads.id });
        await tx.insert(leadHistory).values({
          leadId: lead!.id,
          toStageId: stage.id,
          reason: "automation",
          note: "demo data",
          actorName: "Demo seed",
          at: enteredAt,
        });
        if (!orphan) {
          const [min, max] = plan.score;
          const score = min + Math.floor(random() * (max - min + 1));
          await tx.insert(leadScores).values({
            leadId: lead!.id,
            modelId: model!.id,
            score,
            grade: grades.find((g) => score >= g.min && score <= g.max)?.grade ?? null,
            breakdown: [{ kind: "demo", label: "Score given by the demo seed", points: score }],
          });
        }
        leadCount++;
      }
    }
  });
  const admin = { id: userIds["admin@demo.example"]!, name: "Demo seed", kind: "system" as const, role: "admin" as const };
  for (const [name, campaign] of [
    ["Spring launch landing page", "Spring launch 2026"],
    ["Pricing page", null],
    ["Analytics whitepaper download", "Analytics webinar series"],
  ] as const) {
    await services.forms.create(admin, { name, campaign }, now);
  }
  await services.events.create(
    admin,
    { name: "Retail summit 2026", startsAt: new Date(now.getTime() + 21 * 24 * 3600 * 1000).toISOString(), campaign: "Retail summit" },
    now,
  );
  // The seed wrote contacts and leads directly: give every strategy their keys, so submissions match them.
  for (const strategy of await matching.listStrategies(db)) await backfillKeys(db, strategy);
  return { users: demoUsers.length, leads: leadCount };
}
