/** The business process: processes, stages, boards, leads, their history, opportunities. */
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, check, index, integer, jsonb, numeric, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import type { LeadFlag, RequirementKey, StageField } from "../../shared/domain/stages.ts";
import { leadSource, leadStatus, moveReason, rankKey, timestamps } from "./common.ts";
import { users } from "./access.ts";
import { accounts, contacts, forms, marketingEvents } from "./records.ts";

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
    /**
     * Minutes in stage before a card turns amber (warn), then red (alert): the stage's time
     * limits. The API speaks whole hours (`timeLimits`); minutes leave room for finer limits.
     */
    warnAfterMinutes: integer("warn_after_minutes"),
    alertAfterMinutes: integer("alert_after_minutes"),
  },
  (t) => [
    uniqueIndex("stages_process_key").on(t.processId, t.key),
    uniqueIndex("stages_process_position").on(t.processId, t.position),
    // Both limits or neither, and red comes after amber (spelled out: a check that yields null passes).
    check(
      "stages_time_limits",
      sql`(${t.warnAfterMinutes} is null) = (${t.alertAfterMinutes} is null) and (${t.warnAfterMinutes} is null or (${t.warnAfterMinutes} > 0 and ${t.alertAfterMinutes} > ${t.warnAfterMinutes}))`,
    ),
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
    // Paged board loading: a column's open leads in column order (keyset after rank, id),
    // and the per-column counts of a snapshot (an index-only scan grouped by stage).
    index("leads_open_column_idx").on(t.processId, t.stageId, t.rank, t.id).where(sql`${t.status} = 'open'`),
    index("leads_contact_idx").on(t.contactId),
    index("leads_account_idx").on(t.accountId),
    // The wall's headline figures: leads created on a board since the start of the day; test leads left out.
    index("leads_process_created_idx").on(t.processId, t.createdAt),
    index("leads_test_idx").on(t.id).where(sql`${t.isTest}`),
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
  (t) => [
    index("lead_history_lead_idx").on(t.leadId, t.seq),
    // The wall's figures read this day's and this week's history.
    index("lead_history_at_idx").on(t.at),
  ],
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
