import { eq } from "drizzle-orm";
import { contacts, opportunities } from "../../drizzle/schema.ts";
import type { Opportunity } from "../../shared/schemas/lifecycle.ts";
import type { Executor, Tx } from "../db/client.ts";

export type NewOpportunity = Omit<typeof opportunities.$inferInsert, "id">;

function toOpportunity(row: typeof opportunities.$inferSelect): Opportunity {
  return {
    id: row.id,
    leadId: row.leadId,
    name: row.name,
    contactId: row.contactId,
    accountId: row.accountId,
    ownerId: row.ownerId,
    estimatedValue: row.estimatedValue,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

export async function insertOpportunity(tx: Tx, values: NewOpportunity): Promise<Opportunity> {
  const rows = await tx.insert(opportunities).values(values).returning();
  return toOpportunity(rows[0]!);
}

export async function findOpportunityByLead(db: Executor, leadId: string): Promise<Opportunity | undefined> {
  const rows = await db.select().from(opportunities).where(eq(opportunities.leadId, leadId));
  return rows[0] ? toOpportunity(rows[0]) : undefined;
}

/** The account of a contact: an opportunity of a contact-based lead belongs to the contact's company. */
export async function findContactAccountId(db: Executor, contactId: string): Promise<string | null> {
  const rows = await db.select({ accountId: contacts.accountId }).from(contacts).where(eq(contacts.id, contactId));
  return rows[0]?.accountId ?? null;
}

