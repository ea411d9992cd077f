/** Column types and enums shared by the tables. */
import { customType, pgEnum, timestamp } from "drizzle-orm/pg-core";
import { interactionTypes } from "../../shared/domain/scoring.ts";

/** Rank keys compare bytewise, as fractional-indexing requires. */
export const rankKey = customType<{ data: string }>({
  dataType: () => 'text COLLATE "C"',
});

export const timestamps = {
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
export const interactionType = pgEnum("interaction_type", interactionTypes);
export const matchEntity = pgEnum("match_entity", ["contact", "lead"]);
export const modelTarget = pgEnum("model_target", ["contact", "account"]);
export const modelStatus = pgEnum("model_status", ["draft", "live"]);
export const moveReason = pgEnum("move_reason", ["manual", "override", "gate", "score", "automation"]);
export const importKind = pgEnum("import_kind", ["contacts", "leads"]);
export const importStatus = pgEnum("import_status", ["running", "done", "failed"]);
