import { eq, sql } from "drizzle-orm";
import { accounts, contacts } from "../../drizzle/schema.ts";
import type { Executor } from "../db/client.ts";

export type ContactRow = typeof contacts.$inferSelect;
export type AccountRow = typeof accounts.$inferSelect;

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export async function findContactByEmail(db: Executor, email: string): Promise<ContactRow | undefined> {
  const rows = await db.select().from(contacts).where(eq(contacts.emailNormalized, normalizeEmail(email))).limit(1);
  return rows[0];
}

export async function insertContact(db: Executor, contact: typeof contacts.$inferInsert): Promise<ContactRow> {
  const rows = await db
    .insert(contacts)
    .values({ ...contact, emailNormalized: contact.email ? normalizeEmail(contact.email) : null })
    .returning();
  return rows[0]!;
}

/** Fills empty fields only: an incoming value never blanks a known one. */
export async function updateContactFields(
  db: Executor,
  id: string,
  fields: Partial<Pick<ContactRow, "firstName" | "lastName" | "jobTitle" | "phone" | "country" | "accountId">>,
  now: Date,
): Promise<void> {
  const set = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== undefined && v !== ""));
  if (Object.keys(set).length === 0) return;
  await db.update(contacts).set({ ...set, updatedAt: now }).where(eq(contacts.id, id));
}

export async function findAccountByName(db: Executor, name: string): Promise<AccountRow | undefined> {
  const rows = await db
    .select()
    .from(accounts)
    .where(eq(sql`lower(${accounts.name})`, name.trim().toLowerCase()))
    .limit(1);
  return rows[0];
}

export async function insertAccount(db: Executor, account: typeof accounts.$inferInsert): Promise<AccountRow> {
  const rows = await db.insert(accounts).values(account).returning();
  return rows[0]!;
}
