import pino from "pino";
import { and, eq } from "drizzle-orm";
import { rankBetween } from "../../shared/domain/ranks.ts";
import { lastRankInStage } from "../../server/repositories/leads.ts";
import { leads, stages } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import type { Role } from "../../shared/schemas/common.ts";
import type { Db } from "../../server/db/client.ts";
import type { Actor } from "../../server/services/actor.ts";
import { userActor, type AuthService } from "../../server/services/auth-service.ts";
import type { LeadService } from "../../server/services/lead-service.ts";
import * as contactsRepo from "../../server/repositories/contacts.ts";

export const silentLogger = pino({ level: "silent" });
export const testPassword = "correct horse battery";

let serial = 0;
const unique = () => `${Date.now().toString(36)}${++serial}`;

export async function makeUser(auth: AuthService, role: Role = "admin", name?: string) {
  const user = await auth.createUser({
    email: `${role}.${unique()}@test.example`,
    name: name ?? `Test ${role}`,
    role,
    password: testPassword,
  });
  return { user, actor: userActor(user) as Actor };
}

export async function makeContact(db: Db, overrides: Partial<Parameters<typeof contactsRepo.insertContact>[1]> = {}) {
  return contactsRepo.insertContact(db, {
    email: `person.${unique()}@test.example`,
    firstName: "Pat",
    lastName: "Tester",
    ...overrides,
  });
}

/** A lead with a contact, optionally placed in a stage with flags set (bypassing gates). */
export async function makeLead(
  db: Db,
  service: LeadService,
  actor: Actor,
  options: {
    topic?: string;
    withContact?: boolean;
    stage?: string;
    flags?: Partial<Pick<typeof leads.$inferInsert, "readyForTeleprospecting" | "teleprospectingAccepted" | "salesReady">>;
  } = {},
): Promise<LeadCard> {
  const contact = options.withContact === false ? null : await makeContact(db);
  const card = await service.create(
    actor,
    { topic: options.topic ?? `Lead ${unique()}`, contactId: contact?.id ?? null },
    new Date(),
  );
  if (!options.stage && !options.flags) return card;
  const target = options.stage
    ? (await db.select().from(stages).where(and(eq(stages.key, options.stage), eq(stages.processId, card.processId))))[0]
    : undefined;
  if (options.stage && !target) throw new Error(`makeLead: no stage "${options.stage}" in the lead's process`);
  const rank = target ? rankBetween(await lastRankInStage(db, target.id, card.id), null) : undefined;
  await db
    .update(leads)
    .set({ ...(target ? { stageId: target.id, rank } : {}), ...options.flags })
    .where(eq(leads.id, card.id));
  return service.get(card.id);
}
