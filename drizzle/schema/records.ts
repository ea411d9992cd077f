/** Records and how they come in: accounts, contacts, matching strategies and keys, forms, events, LinkedIn. */
import { sql } from "drizzle-orm";
import { boolean, index, integer, jsonb, numeric, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { leadSource, matchEntity, timestamps } from "./common.ts";
import { leads } from "./process.ts";

export const accounts = pgTable(
  "accounts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    name: text("name").notNull(),
    industry: text("industry"),
    employeeCount: integer("employee_count"),
    annualRevenue: numeric("annual_revenue", { precision: 18, scale: 2, mode: "number" }),
    country: text("country"),
    websiteDomain: text("website_domain"),
    ...timestamps,
  },
  (t) => [index("accounts_name_idx").on(sql`lower(${t.name})`)],
);

export const contacts = pgTable(
  "contacts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email"),
    /** lower(trim(email)): what matching strategies compare. */
    emailNormalized: text("email_normalized"),
    firstName: text("first_name"),
    lastName: text("last_name"),
    jobTitle: text("job_title"),
    phone: text("phone"),
    country: text("country"),
    accountId: uuid("account_id").references(() => accounts.id, { onDelete: "set null" }),
    source: leadSource("source").notNull().default("manual"),
    ...timestamps,
  },
  (t) => [index("contacts_email_idx").on(t.emailNormalized), index("contacts_account_idx").on(t.accountId)],
);

export const matchingStrategies = pgTable("matching_strategies", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  entity: matchEntity("entity").notNull(),
  fields: text("fields").array().notNull(),
  /** The default pair applies to every new form. */
  isDefault: boolean("is_default").notNull().default(false),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const forms = pgTable("forms", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  campaign: text("campaign"),
  /** A field people never fill in; a submission that fills it is a bot's and is dropped. */
  honeypotField: text("honeypot_field").notNull().default("website_url"),
  /** Origins whose pages may post to this form from the browser (CORS). */
  allowedOrigins: text("allowed_origins").array().notNull().default([]),
  contactStrategyId: uuid("contact_strategy_id").references(() => matchingStrategies.id),
  leadStrategyId: uuid("lead_strategy_id").references(() => matchingStrategies.id),
  ...timestamps,
});

export const marketingEvents = pgTable("marketing_events", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
  campaign: text("campaign"),
  contactStrategyId: uuid("contact_strategy_id").references(() => matchingStrategies.id),
  leadStrategyId: uuid("lead_strategy_id").references(() => matchingStrategies.id),
  ...timestamps,
});

export const linkedinForms = pgTable("linkedin_forms", {
  /** LinkedIn's own lead form id. */
  id: text("id").primaryKey(),
  name: text("name"),
  definition: jsonb("definition").notNull(),
  contactStrategyId: uuid("contact_strategy_id").references(() => matchingStrategies.id),
  leadStrategyId: uuid("lead_strategy_id").references(() => matchingStrategies.id),
  ...timestamps,
});

/**
 * The database's guarantee against duplicates: one row per (strategy, normalised key),
 * pointing at the record that key belongs to. Claiming a key is an INSERT that either
 * wins or finds the winner, so two identical submissions at the same moment converge.
 */
export const matchKeys = pgTable(
  "match_keys",
  {
    strategyId: uuid("strategy_id")
      .notNull()
      .references(() => matchingStrategies.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    recordId: uuid("record_id").notNull(),
  },
  (t) => [primaryKey({ columns: [t.strategyId, t.key] }), index("match_keys_record_idx").on(t.recordId)],
);

/** LinkedIn lead form responses already synced: the same response id twice changes nothing. */
export const linkedinResponses = pgTable("linkedin_responses", {
  id: text("id").primaryKey(),
  formId: text("form_id").notNull(),
  leadId: uuid("lead_id").references(() => leads.id, { onDelete: "set null" }),
  contactId: uuid("contact_id").references(() => contacts.id, { onDelete: "set null" }),
  testLead: boolean("test_lead").notNull().default(false),
  submittedAt: timestamp("submitted_at", { withTimezone: true }),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
});
