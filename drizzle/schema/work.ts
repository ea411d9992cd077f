/** Work and logs: imports, idempotency keys, the board event log. */
import { bigint, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
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
  (t) => [primaryKey({ columns: [t.boardId, t.seq] })],
);
