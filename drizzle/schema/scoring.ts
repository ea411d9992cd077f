/** Behaviour and scoring: interactions, scoring models, lead scores, segments. */
import { boolean, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
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

export interface GradeBand {
  grade: string;
  min: number;
  max: number;
}

export const scoringModels = pgTable("scoring_models", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  target: modelTarget("target").notNull(),
  threshold: integer("threshold").notNull(),
  status: modelStatus("status").notNull().default("draft"),
  grades: jsonb("grades").$type<GradeBand[]>().notNull().default([]),
  /** Conditions as the contract defines them; validated by the shared schema. */
  conditions: jsonb("conditions").$type<unknown[]>().notNull().default([]),
  /** Whether a lead stays sales-ready when its score later drops below the threshold. */
  keepSalesReady: boolean("keep_sales_ready").notNull().default(true),
  version: integer("version").notNull().default(1),
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
    breakdown: jsonb("breakdown").$type<unknown[]>().notNull().default([]),
    /** When the oldest counted interaction leaves its window, the score must be re-evaluated. */
    nextExpiryAt: timestamp("next_expiry_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.leadId, t.modelId] }), index("lead_scores_expiry_idx").on(t.nextExpiryAt)],
);

export const segments = pgTable("segments", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  /** Starts from contacts, accounts, leads or opportunities; always resolves to contacts. */
  query: jsonb("query").notNull(),
  ...timestamps,
});
