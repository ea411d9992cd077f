/** Behaviour and scoring: interactions, scoring models, lead scores, segments. */
import { bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import type { BreakdownItem, GradeBand, ScoringCondition } from "../../shared/domain/scoring.ts";
import { interactionType, modelStatus, modelTarget, timestamps } from "./common.ts";
import { accounts, contacts } from "./records.ts";
import { leads, opportunities } from "./process.ts";

export const interactions = pgTable(
  "interactions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    type: interactionType("type").notNull(),
    contactId: uuid("contact_id")
      .notNull()
      .references(() => contacts.id, { onDelete: "cascade" }),
    occurredAt: timestamp("occurred_at", { withTimezone: true }).notNull(),
    formId: uuid("form_id"),
    eventId: uuid("event_id"),
    campaign: text("campaign"),
    url: text("url"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("interactions_contact_idx").on(t.contactId, t.type, t.occurredAt)],
);


export const scoringModels = pgTable("scoring_models", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  target: modelTarget("target").notNull(),
  threshold: integer("threshold").notNull(),
  status: modelStatus("status").notNull().default("draft"),
  grades: jsonb("grades").$type<GradeBand[]>().notNull().default([]),
  /** Conditions as the contract defines them; validated by the shared schema. */
  conditions: jsonb("conditions").$type<ScoringCondition[]>().notNull().default([]),
  /** Whether a lead stays sales-ready when its score later drops below the threshold. */
  keepSalesReady: boolean("keep_sales_ready").notNull().default(true),
  version: integer("version").notNull().default(1),
  /**
   * The background rescore after publishing or editing: leads are rebuilt in id order, so
   * leads above `rescoreCursor` still wait for it while it runs (live scoring leaves them alone).
   */
  rescoreStatus: text("rescore_status").$type<"running" | "done" | "failed">(),
  rescoreMode: text("rescore_mode").$type<"score" | "clear">(),
  rescoreCursor: uuid("rescore_cursor"),
  rescoreTotal: integer("rescore_total").notNull().default(0),
  rescoreProcessed: integer("rescore_processed").notNull().default(0),
  rescoreStartedAt: timestamp("rescore_started_at", { withTimezone: true }),
  rescoreFinishedAt: timestamp("rescore_finished_at", { withTimezone: true }),
  rescoreError: text("rescore_error"),
  ...timestamps,
});

export const leadScores = pgTable(
  "lead_scores",
  {
    leadId: uuid("lead_id")
      .notNull()
      .references(() => leads.id, { onDelete: "cascade" }),
    modelId: uuid("model_id")
      .notNull()
      .references(() => scoringModels.id, { onDelete: "cascade" }),
    score: integer("score").notNull(),
    grade: text("grade"),
    /** The score before the last change: the card's trend arrow. */
    previousScore: integer("previous_score"),
    /** This model's own sales-ready state (see `keepSalesReady`). */
    salesReady: boolean("sales_ready").notNull().default(false),
    breakdown: jsonb("breakdown").$type<BreakdownItem[]>().notNull().default([]),
    /** When the oldest counted interaction leaves its window, the score must be re-evaluated. */
    nextExpiryAt: timestamp("next_expiry_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.leadId, t.modelId] }), index("lead_scores_expiry_idx").on(t.nextExpiryAt)],
);

/**
 * Incremental scoring state: per lead, model, behaviour condition and contributing contact,
 * how many matching interactions were recorded, and (for windowed conditions) the recent
 * occurrence times that may still be inside the window. Interactions add to these rows;
 * a rebuild from the interactions table replaces them (publishing, repairs, relinking).
 */
export const scoreCounters = pgTable(
  "score_counters",
  {
    // No foreign key to leads: recording must not lock lead rows (see docs/scoring.md, lock order).
    leadId: uuid("lead_id").notNull(),
    modelId: uuid("model_id")
      .notNull()
      .references(() => scoringModels.id, { onDelete: "cascade" }),
    conditionIndex: integer("condition_index").notNull(),
    contactId: uuid("contact_id")
      .notNull()
      .references(() => contacts.id, { onDelete: "cascade" }),
    count: integer("count").notNull(),
    /** Windowed conditions only: newest first, pruned to the window and to what the frequency needs. */
    times: timestamp("times", { withTimezone: true }).array(),
    windowDays: integer("window_days"),
    keepLatest: integer("keep_latest"),
    lastAt: timestamp("last_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.leadId, t.modelId, t.conditionIndex, t.contactId] }),
    index("score_counters_model_idx").on(t.modelId),
    index("score_counters_contact_idx").on(t.contactId),
  ],
);

/**
 * Leads whose scores must be evaluated, and when: now for a new interaction or a changed
 * lead, later for the moment an interaction leaves its window. One row per lead.
 */
export const scoreQueue = pgTable(
  "score_queue",
  {
    // No foreign key to leads, as for the counters; the worker skips ids that are not leads.
    leadId: uuid("lead_id").primaryKey(),
    dueAt: timestamp("due_at", { withTimezone: true }).notNull(),
    /** Changes on every request: the worker removes only the requests it has served. */
    mark: bigserial("mark", { mode: "number" }).notNull(),
  },
  (t) => [index("score_queue_due_idx").on(t.dueAt)],
);

export const segments = pgTable("segments", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  /** Starts from contacts, accounts, leads or opportunities; always resolves to contacts. */
  query: jsonb("query").notNull(),
  ...timestamps,
});
