/** Work and logs: imports, idempotency keys, the board event log. */
import { sql, type SQL } from "drizzle-orm";
import { bigint, index, type AnyPgColumn, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import type { BoardEventType } from "../../shared/board.ts";
import { importKind, importStatus } from "./common.ts";
import { users } from "./access.ts";
import { matchingStrategies } from "./records.ts";
import { boards } from "./process.ts";

export const imports = pgTable("imports", {
  id: uuid("id").primaryKey().defaultRandom(),
  kind: importKind("kind").notNull(),
  status: importStatus("status").notNull().default("running"),
  fileName: text("file_name"),
  /** CSV header → record field, as detected or given. */
  mapping: jsonb("mapping").$type<Record<string, string>>().notNull().default({}),
  contactStrategyId: uuid("contact_strategy_id").references(() => matchingStrategies.id),
  leadStrategyId: uuid("lead_strategy_id").references(() => matchingStrategies.id),
  /** Why the import failed, when it did. */
  failure: text("failure"),
  total: integer("total").notNull().default(0),
  processed: integer("processed").notNull().default(0),
  created: integer("created").notNull().default(0),
  updated: integer("updated").notNull().default(0),
  errors: jsonb("errors").$type<Array<{ row: number; error: string }>>().notNull().default([]),
  createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp("finished_at", { withTimezone: true }),
  /**
   * Last sign of life from the node streaming the upload, renewed while it runs. A running
   * import whose heartbeat is older than the timeout belongs to a node that died.
   */
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
});

/** A retried request with the same key answers the first result and changes nothing. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    status: integer("status").notNull(),
    response: jsonb("response").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] })],
);

/**
 * The event types the activity feed lists. The partial indexes below cover exactly these; a
 * query uses them only when its type condition is written as literals (see `activityTypesPredicate`).
 */
export const activityEventTypes = ["lead.created", "lead.moved", "lead.scored", "lead.removed"] as const satisfies readonly BoardEventType[];
export type ActivityEventType = (typeof activityEventTypes)[number];

/**
 * `type in ('lead.created', ...)` with the types as literals: the planner proves a partial
 * index's predicate from constants, not from bind parameters (a generic plan has only those).
 */
export function activityTypesPredicate(type: AnyPgColumn, types: readonly ActivityEventType[] = activityEventTypes): SQL {
  // Raw SQL: only the known literals may get in, whatever a caller casts.
  if (types.length === 0 || types.some((t) => !activityEventTypes.includes(t))) throw new Error(`not activity event types: ${types.join(", ")}`);
  return sql`${type} in (${sql.raw(types.map((t) => `'${t}'`).join(", "))})`;
}

/**
 * The board event log: the single source of what viewers receive. A row is written in
 * the same transaction as the change it describes; (board, seq) is gapless per board.
 */
export const boardEvents = pgTable(
  "board_events",
  {
    boardId: uuid("board_id")
      .notNull()
      .references(() => boards.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    type: text("type").notNull(),
    payload: jsonb("payload").notNull(),
    actorId: uuid("actor_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.boardId, t.seq] }),
    // The activity feed reads only these types, newest first: it skips the rest of the log
    // (lead.updated is most of it) without reading a row.
    index("board_events_activity_idx").on(t.boardId, t.seq).where(activityTypesPredicate(t.type)),
    // "My leads": one owner's feed events, newest first, without reading anyone else's.
    index("board_events_activity_owner_idx")
      .on(t.boardId, sql`(${t.payload}->'lead'->>'ownerId')`, t.seq)
      .where(activityTypesPredicate(t.type)),
  ],
);
