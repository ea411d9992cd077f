/** Saved views: a person's named way of looking at a board (view, model, filters). */
import { sql } from "drizzle-orm";
import { boolean, index, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import type { BoardView } from "../../shared/domain/views.ts";
import type { BoardFilters } from "../../shared/schemas/saved-views.ts";
import { timestamps } from "./common.ts";
import { users } from "./access.ts";
import { processes } from "./process.ts";

export const savedViews = pgTable(
  "saved_views",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /**
     * The board it shows (null: the default process's). A view of a deleted process goes
     * with it: shown on another board its filters would mean something else.
     */
    processId: uuid("process_id").references(() => processes.id, { onDelete: "cascade" }),
    /** The board view (null: the viewer's default for their role). */
    view: text("view").$type<BoardView>(),
    /** The scoring model whose score cards show (null: the best score). No FK: a gone model falls back to the best. */
    modelId: uuid("model_id"),
    filters: jsonb("filters").$type<BoardFilters>().notNull().default({}),
    /** Listed for everyone when true; only for its owner otherwise. */
    shared: boolean("shared").notNull().default(false),
    ...timestamps,
  },
  (t) => [
    // One name per owner, whatever its case: "Hot leads" and "hot leads" would be told apart by nobody.
    uniqueIndex("saved_views_owner_name").on(t.ownerId, sql`lower(${t.name})`),
    index("saved_views_shared_idx").on(t.shared).where(sql`${t.shared}`),
  ],
);
