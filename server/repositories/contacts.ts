import { and, asc, eq, ilike, or, sql } from "drizzle-orm";
import { accounts, contacts } from "../../drizzle/schema.ts";
import { anyId, queryRows, type Executor } from "../db/client.ts";

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

// ---- bulk, for imports: a batch of rows costs one statement per step ----

export async function findContacts(db: Executor, ids: readonly string[]): Promise<Map<string, ContactRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select().from(contacts).where(anyId(contacts.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r]));
}

/** New contacts in one statement with one JSON parameter (short keys: PostgreSQL parses every byte of it). */
export async function insertContacts(
  db: Executor,
  common: { source: ContactRow["source"]; at: Date },
  rows: Array<Required<ContactChanges> & { id: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  const payload = JSON.stringify(
    rows.map((c) => ({
      i: c.id,
      e: c.email,
      n: c.email ? normalizeEmail(c.email) : null,
      f: c.firstName,
      l: c.lastName,
      j: c.jobTitle,
      p: c.phone,
      c: c.country,
      a: c.accountId,
    })),
  );
  const at = common.at.toISOString();
  await db.execute(sql`
    insert into contacts (id, email, email_normalized, first_name, last_name, job_title, phone, country, account_id, source,
      created_at, updated_at)
    select x.i, x.e, x.n, x.f, x.l, x.j, x.p, x.c, x.a, ${common.source}::lead_source, ${at}::timestamptz, ${at}::timestamptz
    from jsonb_to_recordset(${payload}::jsonb) as x(i uuid, e text, n text, f text, l text, j text, p text, c text, a uuid)`);
}

/** Sets the mergeable fields of each contact to the given values, in one statement. */
export async function updateContacts(db: Executor, rows: Array<Required<ContactChanges> & { id: string }>, now: Date): Promise<void> {
  if (rows.length === 0) return;
  const payload = JSON.stringify(rows.map((c) => ({ ...c, email_normalized: c.email ? normalizeEmail(c.email) : null })));
  await db.execute(sql`
    update contacts c set email = x.email, email_normalized = x.email_normalized, first_name = x."firstName",
      last_name = x."lastName", job_title = x."jobTitle", phone = x.phone, country = x.country,
      account_id = x."accountId", updated_at = ${now.toISOString()}::timestamptz
    from jsonb_to_recordset(${payload}::jsonb) as x(id uuid, email text, email_normalized text, "firstName" text,
      "lastName" text, "jobTitle" text, phone text, country text, "accountId" uuid)
    where c.id = x.id`);
}

/**
 * Accounts by name, compared as `findAccountByName` does (lower(name) against the given
 * lower-cased, trimmed key), one per key.
 */
export async function findAccountsByNames(db: Executor, keys: readonly string[]): Promise<Map<string, { id: string; name: string }>> {
  if (keys.length === 0) return new Map();
  const rows = await queryRows<{ id: string; name: string; key: string }>(
    db,
    sql`select a.id, a.name, k.key from jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb) as k(key)
      join accounts a on lower(a.name) = k.key`,
  );
  const found = new Map<string, { id: string; name: string }>();
  for (const row of rows) if (!found.has(row.key)) found.set(row.key, { id: row.id, name: row.name });
  return found;
}

export async function insertAccounts(db: Executor, rows: Array<{ id: string; name: string; country: string | null; at: Date }>): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    insert into accounts (id, name, country, created_at, updated_at)
    select x.id, x.name, x.country, x.at, x.at
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id uuid, name text, country text, at timestamptz)`);
}
