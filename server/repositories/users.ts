import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import { sessions, users } from "../../drizzle/schema.ts";
import type { Role } from "../../shared/schemas/common.ts";
import type { Executor } from "../db/client.ts";

export type UserRow = typeof users.$inferSelect;
export type PublicUser = Pick<UserRow, "id" | "email" | "name" | "role" | "active">;

const publicColumns = { id: users.id, email: users.email, name: users.name, role: users.role, active: users.active };

export async function findUserByEmail(db: Executor, email: string): Promise<UserRow | undefined> {
  const rows = await db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, email.trim().toLowerCase()));
  return rows[0];
}

export async function countUsers(db: Executor): Promise<number> {
  const rows = await db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(users);
  return rows[0]?.n ?? 0;
}

export async function insertUser(
  db: Executor,
  user: { email: string; name: string; role: Role; passwordHash: string },
): Promise<PublicUser> {
  const rows = await db.insert(users).values(user).returning(publicColumns);
  return rows[0]!;
}

/** Users by id, for owners and "user" stage fields. */
export async function findUsersByIds(
  db: Executor,
  ids: string[],
): Promise<Array<{ id: string; name: string; active: boolean }>> {
  if (ids.length === 0) return [];
  return db.select({ id: users.id, name: users.name, active: users.active }).from(users).where(inArray(users.id, ids));
}

/** For the admin pages: everyone, by name (case-insensitive), then email. */
export async function listUsers(db: Executor): Promise<UserRow[]> {
  return db.select().from(users).orderBy(asc(sql`lower(${users.name})`), asc(users.email));
}

/** `lock`: hold the row until the transaction ends, so concurrent changes to one user queue up. */
export async function findUserById(db: Executor, id: string, lock = false): Promise<UserRow | undefined> {
  const query = db.select().from(users).where(eq(users.id, id));
  const rows = lock ? await query.for("update") : await query;
  return rows[0];
}

/** A new user, with either a usable password hash or a pending invitation. */
export async function insertUserRow(
  db: Executor,
  user: {
    email: string;
    name: string;
    role: Role;
    passwordHash: string;
    inviteTokenHash: string | null;
    inviteExpiresAt: Date | null;
  },
  now: Date,
): Promise<UserRow> {
  const rows = await db
    .insert(users)
    .values({ ...user, createdAt: now, updatedAt: now })
    .returning();
  return rows[0]!;
}

export type UserChanges = Partial<
  Pick<UserRow, "name" | "role" | "active" | "passwordHash" | "inviteTokenHash" | "inviteExpiresAt">
>;

export async function updateUser(db: Executor, id: string, changes: UserChanges, now: Date): Promise<UserRow | undefined> {
  const rows = await db
    .update(users)
    .set({ ...changes, updatedAt: now })
    .where(eq(users.id, id))
    .returning();
  return rows[0];
}

/** The user whose pending invitation has this token hash, whether or not it has expired. */
export async function findUserByInviteHash(db: Executor, inviteTokenHash: string): Promise<UserRow | undefined> {
  const rows = await db.select().from(users).where(eq(users.inviteTokenHash, inviteTokenHash));
  return rows[0];
}

/**
 * Sets the password of the user invited with this token and clears the invitation, if it is
 * still live and the user active. Conditional, so one token sets one password even when
 * two acceptances race.
 */
export async function acceptInvite(
  db: Executor,
  inviteTokenHash: string,
  passwordHash: string,
  now: Date,
): Promise<UserRow | undefined> {
  const rows = await db
    .update(users)
    .set({ passwordHash, inviteTokenHash: null, inviteExpiresAt: null, updatedAt: now })
    .where(and(eq(users.inviteTokenHash, inviteTokenHash), gt(users.inviteExpiresAt, now), eq(users.active, true)))
    .returning();
  return rows[0];
}

/**
 * Locks every active admin's row and returns their ids. Taken before demoting or
 * deactivating an admin, so two admins removing each other at once cannot leave none:
 * the second waits, then sees the first's change.
 */
export async function lockActiveAdmins(db: Executor): Promise<string[]> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.role, "admin"), eq(users.active, true)))
    .orderBy(asc(users.id))
    .for("update");
  return rows.map((r) => r.id);
}

/** Ends every session of a user; returns how many there were. */
export async function deleteUserSessions(db: Executor, userId: string): Promise<number> {
  const rows = await db.delete(sessions).where(eq(sessions.userId, userId)).returning({ tokenHash: sessions.tokenHash });
  return rows.length;
}
