import { and, asc, eq, ilike, or, sql } from "drizzle-orm";
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

export async function findContact(db: Executor, id: string): Promise<ContactRow | undefined> {
  const rows = await db.select().from(contacts).where(eq(contacts.id, id));
  return rows[0];
}

export type ContactChanges = Partial<
  Pick<ContactRow, "email" | "firstName" | "lastName" | "jobTitle" | "phone" | "country" | "accountId">
>;

export async function updateContact(db: Executor, id: string, changes: ContactChanges, now: Date): Promise<ContactRow> {
  const rows = await db
    .update(contacts)
    .set({
      ...changes,
      ...(changes.email !== undefined ? { emailNormalized: changes.email ? normalizeEmail(changes.email) : null } : {}),
      updatedAt: now,
    })
    .where(eq(contacts.id, id))
    .returning();
  return rows[0]!;
}

export async function findAccount(db: Executor, id: string): Promise<AccountRow | undefined> {
  const rows = await db.select().from(accounts).where(eq(accounts.id, id));
  return rows[0];
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

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Search as you type: name, email or company, case-insensitive. */
export async function searchContacts(
  db: Executor,
  filters: { q?: string | undefined; accountId?: string | undefined; limit: number; offset: number },
) {
  const pattern = filters.q ? `%${escapeLike(filters.q.trim())}%` : undefined;
  return db
    .select({
      id: contacts.id,
      email: contacts.email,
      firstName: contacts.firstName,
      lastName: contacts.lastName,
      jobTitle: contacts.jobTitle,
      phone: contacts.phone,
      country: contacts.country,
      accountId: contacts.accountId,
      accountName: accounts.name,
      updatedAt: contacts.updatedAt,
    })
    .from(contacts)
    .leftJoin(accounts, eq(accounts.id, contacts.accountId))
    .where(
      and(
        filters.accountId ? eq(contacts.accountId, filters.accountId) : undefined,
        pattern
          ? or(
              ilike(contacts.email, pattern),
              ilike(sql`concat_ws(' ', ${contacts.firstName}, ${contacts.lastName})`, pattern),
              ilike(accounts.name, pattern),
            )
          : undefined,
      ),
    )
    .orderBy(asc(contacts.lastName), asc(contacts.firstName), asc(contacts.id))
    .limit(filters.limit)
    .offset(filters.offset);
}

export async function searchAccounts(db: Executor, filters: { q?: string | undefined; limit: number; offset: number }) {
  const pattern = filters.q ? `%${escapeLike(filters.q.trim())}%` : undefined;
  return db
    .select()
    .from(accounts)
    .where(pattern ? or(ilike(accounts.name, pattern), ilike(accounts.websiteDomain, pattern)) : undefined)
    .orderBy(asc(accounts.name), asc(accounts.id))
    .limit(filters.limit)
    .offset(filters.offset);
}

export async function updateAccount(db: Executor, id: string, changes: Partial<typeof accounts.$inferInsert>) {
  const rows = await db.update(accounts).set(changes).where(eq(accounts.id, id)).returning();
  return rows[0];
}
