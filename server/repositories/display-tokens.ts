import { and, asc, eq, isNull, lt, or } from "drizzle-orm";
import { boards, displayTokens, processes } from "../../drizzle/schema.ts";
import type { DisplayScreen } from "../../shared/schemas/display-tokens.ts";
import { anyId, type Executor } from "../db/client.ts";

export type DisplayTokenRow = typeof displayTokens.$inferSelect;

export interface NewDisplayToken {
  name: string;
  tokenHash: string;
  prefix: string;
  screens: DisplayScreen[];
  rotateSeconds: number | null;
  sound: boolean;
  createdBy: string | null;
}

export async function insertDisplayToken(db: Executor, token: NewDisplayToken, now: Date): Promise<DisplayTokenRow> {
  const rows = await db
    .insert(displayTokens)
    .values({ ...token, createdAt: now })
    .returning();
  return rows[0]!;
}

export async function listDisplayTokens(db: Executor): Promise<DisplayTokenRow[]> {
  return db.select().from(displayTokens).orderBy(asc(displayTokens.createdAt), asc(displayTokens.id));
}

export async function findDisplayToken(db: Executor, id: string): Promise<DisplayTokenRow | undefined> {
  const rows = await db.select().from(displayTokens).where(eq(displayTokens.id, id));
  return rows[0];
}

/** The token with this hash, unless it was revoked. */
export async function findLiveDisplayTokenByHash(db: Executor, tokenHash: string): Promise<DisplayTokenRow | undefined> {
  const rows = await db
    .select()
    .from(displayTokens)
    .where(and(eq(displayTokens.tokenHash, tokenHash), isNull(displayTokens.revokedAt)));
  return rows[0];
}

/** Undefined when there is no such token or it was already revoked. */
export async function revokeDisplayToken(db: Executor, id: string, now: Date): Promise<DisplayTokenRow | undefined> {
  const rows = await db
    .update(displayTokens)
    .set({ revokedAt: now })
    .where(and(eq(displayTokens.id, id), isNull(displayTokens.revokedAt)))
    .returning();
  return rows[0];
}

/** Records that the display was seen, unless that was recorded after `notAfter` (by any server node). */
export async function touchDisplayToken(db: Executor, id: string, now: Date, notAfter: Date): Promise<void> {
  await db
    .update(displayTokens)
    .set({ lastSeenAt: now })
    .where(and(eq(displayTokens.id, id), or(isNull(displayTokens.lastSeenAt), lt(displayTokens.lastSeenAt, notAfter))));
}

export interface ProcessBoard {
  processId: string;
  processName: string;
  boardId: string;
}

/** The board (and name) of each of these processes that exists. */
export async function boardsOfProcesses(db: Executor, processIds: readonly string[]): Promise<ProcessBoard[]> {
  if (processIds.length === 0) return [];
  return db
    .select({ processId: processes.id, processName: processes.name, boardId: boards.id })
    .from(processes)
    .innerJoin(boards, eq(boards.processId, processes.id))
    .where(anyId(processes.id, [...new Set(processIds)]));
}
