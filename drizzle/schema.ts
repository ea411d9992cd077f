/**
 * The whole domain of the lead lifecycle, as PostgreSQL tables.
 * Migrations are generated from this file by `npm run db:generate` (drizzle-kit).
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { LeadFlag, RequirementKey, StageField } from "../shared/domain/stages.ts";

/** Rank keys compare bytewise, as fractional-indexing requires. */
const rankKey = customType<{ data: string }>({
  dataType: () => 'text COLLATE "C"',
});

const timestamps = {
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
};

export const userRole = pgEnum("user_role", [
  "admin",
  "marketer",
  "telemarketer",
  "sales_manager",
  "salesperson",
  "viewer",
]);
export const leadSource = pgEnum("lead_source", ["manual", "import", "form", "event", "linkedin", "journey"]);
export const leadStatus = pgEnum("lead_status", ["open", "converted", "disqualified"]);
export const interactionType = pgEnum("interaction_type", [
  "email_opened",
  "email_clicked",
  "form_submitted",
  "website_visited",
  "event_registered",
  "event_attended",
]);
export const matchEntity = pgEnum("match_entity", ["contact", "lead"]);
export const modelTarget = pgEnum("model_target", ["contact", "account"]);
export const modelStatus = pgEnum("model_status", ["draft", "live"]);
export const moveReason = pgEnum("move_reason", ["manual", "override", "gate", "score", "automation"]);
export const importKind = pgEnum("import_kind", ["contacts", "leads"]);
export const importStatus = pgEnum("import_status", ["running", "done", "failed"]);

// ---------------------------------------------------------------- people and access

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    role: userRole("role").notNull(),
    passwordHash: text("password_hash").notNull(),
    active: boolean("active").notNull().default(true),
    ...timestamps,
  },
  (t) => [uniqueIndex("users_email_key").on(sql`lower(${t.email})`)],
);

export const sessions = pgTable(
  "sessions",
  {
    /** SHA-256 of the cookie's token: a database leak yields no usable session. */
    tokenHash: text("token_hash").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

export const apiKeys = pgTable("api_keys", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  keyHash: text("key_hash").notNull().unique(),
  /** The first characters of the key, so people can tell keys apart. */
  prefix: text("prefix").notNull(),
  scopes: text("scopes").array().notNull(),
  createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
});

export const displayTokens = pgTable("display_tokens", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  tokenHash: text("token_hash").notNull().unique(),
  boardId: uuid("board_id")
    .notNull()
    .references(() => boards.id, { onDelete: "cascade" }),
  /** Saved-view filters the display shows; empty for the whole board. */
  view: jsonb("view").$type<Record<string, unknown>>().notNull().default({}),
  createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
});

// ---------------------------------------------------------------- records

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

// ---------------------------------------------------------------- the business process

export const processes = pgTable("processes", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull(),
  isDefault: boolean("is_default").notNull().default(false),
  /** What a lead needs before it can be converted to an opportunity. */
  conversionRequirements: jsonb("conversion_requirements")
    .$type<RequirementKey[]>()
    .notNull()
    .default(["sales_accepted", "has_owner"]),
  version: integer("version").notNull().default(1),
  ...timestamps,
});

export const stages = pgTable(
  "stages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    processId: uuid("process_id")
      .notNull()
      .references(() => processes.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    name: text("name").notNull(),
    position: integer("position").notNull(),
    entryRequirements: jsonb("entry_requirements").$type<RequirementKey[]>().notNull().default([]),
    /** The fields recorded in this stage (e.g. what a telemarketer learned). */
    fields: jsonb("fields").$type<StageField[]>().notNull().default([]),
    /** The checkbox that completes this stage: ticking it advances the lead to the next stage. */
    gateFlag: text("gate_flag").$type<LeadFlag>(),
    /** A lead that becomes sales-ready here jumps straight to the sales-ready stage. */
    salesReadyJump: boolean("sales_ready_jump").notNull().default(false),
    /** Minutes in stage before a card turns amber, then red. */
    warnAfterMinutes: integer("warn_after_minutes"),
    alertAfterMinutes: integer("alert_after_minutes"),
  },
  (t) => [
    uniqueIndex("stages_process_key").on(t.processId, t.key),
    uniqueIndex("stages_process_position").on(t.processId, t.position),
  ],
);

/** One board per process; `lastSeq` is the board's event counter and its write lock. */
export const boards = pgTable("boards", {
  id: uuid("id").primaryKey().defaultRandom(),
  processId: uuid("process_id")
    .notNull()
    .unique()
    .references(() => processes.id, { onDelete: "cascade" }),
  lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
});

export const leads = pgTable(
  "leads",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    topic: text("topic").notNull(),
    contactId: uuid("contact_id").references(() => contacts.id, { onDelete: "set null" }),
    accountId: uuid("account_id").references(() => accounts.id, { onDelete: "set null" }),
    // Marketing context: the campaign or initiative this interest answers.
    campaign: text("campaign"),
    formId: uuid("form_id").references(() => forms.id, { onDelete: "set null" }),
    eventId: uuid("event_id").references(() => marketingEvents.id, { onDelete: "set null" }),
    linkedinFormId: text("linkedin_form_id"),
    journeyId: text("journey_id"),
    source: leadSource("source").notNull().default("manual"),
    processId: uuid("process_id")
      .notNull()
      .references(() => processes.id),
    stageId: uuid("stage_id")
      .notNull()
      .references(() => stages.id),
    rank: rankKey("rank").notNull(),
    version: integer("version").notNull().default(1),
    readyForTeleprospecting: boolean("ready_for_teleprospecting").notNull().default(false),
    teleprospectingAccepted: boolean("teleprospecting_accepted").notNull().default(false),
    salesReady: boolean("sales_ready").notNull().default(false),
    salesAccepted: boolean("sales_accepted").notNull().default(false),
    ownerId: uuid("owner_id").references(() => users.id, { onDelete: "set null" }),
    status: leadStatus("status").notNull().default("open"),
    isTest: boolean("is_test").notNull().default(false),
    /** Why a lead was disqualified (status "disqualified"). */
    closedReason: text("closed_reason"),
    closedAt: timestamp("closed_at", { withTimezone: true }),
    /** Values recorded in stage fields, keyed by stage key then field key. */
    stageData: jsonb("stage_data").$type<Record<string, Record<string, unknown>>>().notNull().default({}),
    stageEnteredAt: timestamp("stage_entered_at", { withTimezone: true }).notNull().defaultNow(),
    ...timestamps,
  },
  (t) => [
    index("leads_board_idx").on(t.processId, t.stageId, t.rank),
    // A column's first and last ranks (appending, neighbours) read this index.
    index("leads_stage_rank_idx").on(t.stageId, t.rank),
    index("leads_contact_idx").on(t.contactId),
    index("leads_account_idx").on(t.accountId),
  ],
);

export const historyKind = pgEnum("history_kind", ["stage", "flag", "assignment", "process", "status", "field"]);

/** Every change of stage, flag, owner, process or status: who (or which automation), when, from, to, why. */
export const leadHistory = pgTable(
  "lead_history",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    leadId: uuid("lead_id")
      .notNull()
      .references(() => leads.id, { onDelete: "cascade" }),
    kind: historyKind("kind").notNull().default("stage"),
    /** For flag and field changes: which one. */
    field: text("field"),
    fromStageId: uuid("from_stage_id").references(() => stages.id, { onDelete: "set null" }),
    toStageId: uuid("to_stage_id").references(() => stages.id, { onDelete: "set null" }),
    fromValue: jsonb("from_value"),
    toValue: jsonb("to_value"),
    reason: moveReason("reason").notNull(),
    note: text("note"),
    actorId: uuid("actor_id").references(() => users.id, { onDelete: "set null" }),
    actorName: text("actor_name").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
    /** Insertion order: entries written in one transaction share `at`. */
    seq: bigserial("seq", { mode: "number" }).notNull(),
  },
  (t) => [index("lead_history_lead_idx").on(t.leadId, t.seq)],
);

export const opportunities = pgTable("opportunities", {
  id: uuid("id").primaryKey().defaultRandom(),
  leadId: uuid("lead_id")
    .notNull()
    .unique()
    .references(() => leads.id),
  name: text("name").notNull(),
  contactId: uuid("contact_id").references(() => contacts.id, { onDelete: "set null" }),
  accountId: uuid("account_id").references(() => accounts.id, { onDelete: "set null" }),
  ownerId: uuid("owner_id").references(() => users.id, { onDelete: "set null" }),
  estimatedValue: numeric("estimated_value", { precision: 18, scale: 2, mode: "number" }),
  ...timestamps,
});

// ---------------------------------------------------------------- behaviour and scoring

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

// ---------------------------------------------------------------- work and logs

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
