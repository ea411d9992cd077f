/**
 * Leads written a batch at a time, for imports: each statement takes the whole batch as one
 * parameter (the single-lead reads and writes are in leads.ts).
 */
import { asc, sql } from "drizzle-orm";
import { leads } from "../../drizzle/schema.ts";
import { anyId, uuidList, type Tx } from "../db/client.ts";
import type { LeadRow } from "./leads.ts";

/** `lockLead` for many leads, in id order (two batches never wait on each other in a cycle). */
export async function lockLeads(tx: Tx, leadIds: readonly string[]): Promise<Map<string, LeadRow>> {
  if (leadIds.length === 0) return new Map();
  const rows = await tx
    .select()
    .from(leads)
    .where(anyId(leads.id, [...new Set(leadIds)]))
    .orderBy(asc(leads.id))
    .for("update");
  return new Map(rows.map((r) => [r.id, r]));
}

/** New leads as intake makes them: what differs per lead; the rest is the same for the whole batch. */
export interface ImportedLead {
  id: string;
  topic: string;
  contactId: string | null;
  accountId: string | null;
  campaign: string | null;
  rank: string;
  version: number;
}

/**
 * New leads in one statement, with one JSON parameter (no per-value SQL building). Short keys
 * and the batch's common values as their own parameters: the JSON is parsed by PostgreSQL,
 * so every byte of it costs on both sides.
 */
export async function insertLeads(
  tx: Tx,
  common: { processId: string; stageId: string; source: LeadRow["source"]; at: Date },
  rows: ImportedLead[],
): Promise<void> {
  if (rows.length === 0) return;
  const payload = JSON.stringify(rows.map((l) => ({ i: l.id, t: l.topic, c: l.contactId, a: l.accountId, g: l.campaign, r: l.rank, v: l.version })));
  const at = common.at.toISOString();
  await tx.execute(sql`
    insert into leads (id, topic, contact_id, account_id, campaign, process_id, stage_id, rank, source, version,
      stage_entered_at, created_at, updated_at)
    select x.i, x.t, x.c, x.a, x.g, ${common.processId}::uuid, ${common.stageId}::uuid, x.r, ${common.source}::lead_source,
      x.v, ${at}::timestamptz, ${at}::timestamptz, ${at}::timestamptz
    from jsonb_to_recordset(${payload}::jsonb) as x(i uuid, t text, c uuid, a uuid, g text, r text, v int)`);
}

/** Stage-history entries of new leads (no from-stage), all alike but for the lead, in the given order. */
export async function insertHistoryEntries(
  tx: Tx,
  leadIds: readonly string[],
  entry: { toStageId: string; reason: "manual" | "automation"; actorId: string | null; actorName: string; at: Date },
): Promise<void> {
  if (leadIds.length === 0) return;
  await tx.execute(sql`
    insert into lead_history (lead_id, to_stage_id, reason, actor_id, actor_name, at)
    select x.id, ${entry.toStageId}::uuid, ${entry.reason}::move_reason, ${entry.actorId}::uuid, ${entry.actorName},
      ${entry.at.toISOString()}::timestamptz
    from unnest(${uuidList(leadIds)}) with ordinality as x(id, ord)
    order by x.ord`);
}

/** Merged intake into open leads: topic, campaign and contact set, version bumped by `bumps`, in one statement. */
export async function updateMergedLeads(
  tx: Tx,
  rows: Array<{ id: string; topic: string; campaign: string | null; contactId: string | null; bumps: number }>,
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await tx.execute(sql`
    update leads l set topic = x.topic, campaign = x.campaign, contact_id = x."contactId",
      version = l.version + x.bumps, updated_at = ${now.toISOString()}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id uuid, topic text, campaign text, "contactId" uuid, bumps int)
    where l.id = x.id`);
}
