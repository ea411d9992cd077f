import { asc, eq } from "drizzle-orm";
import { forms, linkedinForms, linkedinResponses, marketingEvents } from "../../drizzle/schema.ts";
import type { Executor } from "../db/client.ts";

export type FormRow = typeof forms.$inferSelect;
export type EventRow = typeof marketingEvents.$inferSelect;
export type LinkedinFormRow = typeof linkedinForms.$inferSelect;

export const listForms = (db: Executor) => db.select().from(forms).orderBy(asc(forms.createdAt));
export const findForm = async (db: Executor, id: string): Promise<FormRow | undefined> =>
  (await db.select().from(forms).where(eq(forms.id, id)))[0];
export const insertForm = async (db: Executor, form: typeof forms.$inferInsert): Promise<FormRow> =>
  (await db.insert(forms).values(form).returning())[0]!;
export const updateForm = async (db: Executor, id: string, changes: Partial<typeof forms.$inferInsert>) =>
  (await db.update(forms).set(changes).where(eq(forms.id, id)).returning())[0];

export const listEvents = (db: Executor) => db.select().from(marketingEvents).orderBy(asc(marketingEvents.startsAt));
export const findEvent = async (db: Executor, id: string): Promise<EventRow | undefined> =>
  (await db.select().from(marketingEvents).where(eq(marketingEvents.id, id)))[0];
export const insertEvent = async (db: Executor, event: typeof marketingEvents.$inferInsert): Promise<EventRow> =>
  (await db.insert(marketingEvents).values(event).returning())[0]!;

export const listLinkedinForms = (db: Executor) => db.select().from(linkedinForms).orderBy(asc(linkedinForms.createdAt));
export const findLinkedinForm = async (db: Executor, id: string): Promise<LinkedinFormRow | undefined> =>
  (await db.select().from(linkedinForms).where(eq(linkedinForms.id, id)))[0];

/** Stores a form definition; syncing the same form again replaces it. */
export async function upsertLinkedinForm(db: Executor, form: typeof linkedinForms.$inferInsert): Promise<LinkedinFormRow> {
  const rows = await db
    .insert(linkedinForms)
    .values(form)
    .onConflictDoUpdate({
      target: linkedinForms.id,
      set: {
        name: form.name,
        definition: form.definition,
        contactStrategyId: form.contactStrategyId,
        leadStrategyId: form.leadStrategyId,
        updatedAt: form.updatedAt,
      },
    })
    .returning();
  return rows[0]!;
}

/** Records a response id; false when it was synced before (the caller then changes nothing). */
export async function claimLinkedinResponse(db: Executor, response: typeof linkedinResponses.$inferInsert): Promise<boolean> {
  const rows = await db.insert(linkedinResponses).values(response).onConflictDoNothing().returning({ id: linkedinResponses.id });
  return rows.length > 0;
}

export async function linkLinkedinResponse(db: Executor, id: string, leadId: string | null, contactId: string | null) {
  await db.update(linkedinResponses).set({ leadId, contactId }).where(eq(linkedinResponses.id, id));
}
