import { asc, eq, or, sql } from "drizzle-orm";
import { processes, savedViews, users } from "../../drizzle/schema.ts";
import type { BoardView } from "../../shared/domain/views.ts";
import type { BoardFilters } from "../../shared/schemas/saved-views.ts";
import type { Executor } from "../db/client.ts";

export interface SavedViewRow {
  id: string;
  ownerId: string;
  ownerName: string;
  name: string;
  processId: string | null;
  view: BoardView | null;
  modelId: string | null;
  filters: BoardFilters;
  shared: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface SavedViewValues {
  name: string;
  processId: string | null;
  view: BoardView | null;
  modelId: string | null;
  filters: BoardFilters;
  shared: boolean;
}

const columns = {
  id: savedViews.id,
  ownerId: savedViews.ownerId,
  ownerName: users.name,
  name: savedViews.name,
  processId: savedViews.processId,
  view: savedViews.view,
  modelId: savedViews.modelId,
  filters: savedViews.filters,
  shared: savedViews.shared,
  createdAt: savedViews.createdAt,
  updatedAt: savedViews.updatedAt,
};

const selectViews = (db: Executor) => db.select(columns).from(savedViews).innerJoin(users, eq(users.id, savedViews.ownerId));

/** The owner's own views and everyone's shared ones, by name. */
export async function listVisibleSavedViews(db: Executor, ownerId: string): Promise<SavedViewRow[]> {
  return selectViews(db)
    .where(or(eq(savedViews.ownerId, ownerId), eq(savedViews.shared, true)))
    .orderBy(sql`lower(${savedViews.name})`, asc(savedViews.name), asc(savedViews.id));
}

export async function findSavedView(db: Executor, id: string): Promise<SavedViewRow | undefined> {
  const rows = await selectViews(db).where(eq(savedViews.id, id));
  return rows[0];
}

/** The new view's id, or "duplicate" when the owner already has a view of that name. */
export async function insertSavedView(
  db: Executor,
  ownerId: string,
  values: SavedViewValues,
  now: Date,
): Promise<string | "duplicate"> {
  try {
    const rows = await db
      .insert(savedViews)
      .values({ ...values, ownerId, createdAt: now, updatedAt: now })
      .returning({ id: savedViews.id });
    return rows[0]!.id;
  } catch (err) {
    if (isDuplicateName(err)) return "duplicate";
    throw err;
  }
}

/** False when there is no such view; "duplicate" when the new name is taken by another view of the owner. */
export async function updateSavedView(
  db: Executor,
  id: string,
  changes: Partial<SavedViewValues>,
  now: Date,
): Promise<boolean | "duplicate"> {
  try {
    const rows = await db
      .update(savedViews)
      .set({ ...changes, updatedAt: now })
      .where(eq(savedViews.id, id))
      .returning({ id: savedViews.id });
    return rows.length > 0;
  } catch (err) {
    if (isDuplicateName(err)) return "duplicate";
    throw err;
  }
}

export async function deleteSavedView(db: Executor, id: string): Promise<boolean> {
  const rows = await db.delete(savedViews).where(eq(savedViews.id, id)).returning({ id: savedViews.id });
  return rows.length > 0;
}

export async function processExists(db: Executor, processId: string): Promise<boolean> {
  const rows = await db.select({ id: processes.id }).from(processes).where(eq(processes.id, processId));
  return rows.length > 0;
}

/**
 * The unique (owner, lower(name)) index said no. Both drivers report PostgreSQL's code
 * (23505) and the constraint, on the error or on the one drizzle wraps.
 */
function isDuplicateName(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const fields = e as { code?: unknown; constraint?: unknown; constraint_name?: unknown };
    if (fields.code === "23505") return (fields.constraint ?? fields.constraint_name) === "saved_views_owner_name";
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
