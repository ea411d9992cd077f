import { and, eq, gt, inArray, sql } from "drizzle-orm";
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

export async function insertSession(
  db: Executor,
  session: { tokenHash: string; userId: string; expiresAt: Date },
): Promise<void> {
  await db.insert(sessions).values(session);
}

/** The active user behind a live session, or undefined. */
export async function findSessionUser(db: Executor, tokenHash: string, now: Date): Promise<PublicUser | undefined> {
  const rows = await db
    .select(publicColumns)
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, now), eq(users.active, true)));
  return rows[0];
}

export async function deleteSession(db: Executor, tokenHash: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
}

/** Users by id, for owners and "user" stage fields. */
export async function findUsersByIds(
  db: Executor,
  ids: string[],
): Promise<Array<{ id: string; name: string; active: boolean }>> {
  if (ids.length === 0) return [];
  return db.select({ id: users.id, name: users.name, active: users.active }).from(users).where(inArray(users.id, ids));
}
