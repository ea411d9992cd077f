/** Sign-in sessions: a row per session, keyed by the SHA-256 of the cookie's token. */
import { and, eq, gt, lte, or } from "drizzle-orm";
import { sessions, users } from "../../drizzle/schema.ts";
import type { Executor } from "../db/client.ts";
import type { PublicUser } from "./users.ts";

const publicColumns = { id: users.id, email: users.email, name: users.name, role: users.role, active: users.active };

export async function insertSession(
  db: Executor,
  session: { tokenHash: string; userId: string; expiresAt: Date },
  now: Date,
): Promise<void> {
  // Times come from the app's clock, not the database's: idle expiry compares them with `now`.
  await db.insert(sessions).values({ ...session, createdAt: now, lastSeenAt: now });
}

/**
 * The active user behind a live session (not past its absolute expiry, used since
 * `idleSince`), and when the session was last seen.
 */
export async function findLiveSession(
  db: Executor,
  tokenHash: string,
  now: Date,
  idleSince: Date,
): Promise<{ user: PublicUser; lastSeenAt: Date } | undefined> {
  const rows = await db
    .select({ user: publicColumns, lastSeenAt: sessions.lastSeenAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        eq(sessions.tokenHash, tokenHash),
        gt(sessions.expiresAt, now),
        gt(sessions.lastSeenAt, idleSince),
        eq(users.active, true),
      ),
    );
  return rows[0];
}

/** Marks a live session as used now; false when it is gone or already expired. */
export async function touchSession(
  db: Executor,
  tokenHash: string,
  now: Date,
  idleSince: Date,
): Promise<boolean> {
  const rows = await db
    .update(sessions)
    .set({ lastSeenAt: now })
    .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, now), gt(sessions.lastSeenAt, idleSince)))
    .returning({ tokenHash: sessions.tokenHash });
  return rows.length > 0;
}

/** Deletes one session; true when it existed. */
export async function deleteSession(db: Executor, tokenHash: string): Promise<boolean> {
  const rows = await db.delete(sessions).where(eq(sessions.tokenHash, tokenHash)).returning({ tokenHash: sessions.tokenHash });
  return rows.length > 0;
}

/** Deletes sessions past their absolute expiry or idle since `idleSince`; returns their token hashes. */
export async function deleteExpiredSessions(db: Executor, now: Date, idleSince: Date): Promise<string[]> {
  const rows = await db
    .delete(sessions)
    .where(or(lte(sessions.expiresAt, now), lte(sessions.lastSeenAt, idleSince)))
    .returning({ tokenHash: sessions.tokenHash });
  return rows.map((r) => r.tokenHash);
}
