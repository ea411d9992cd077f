/**
 * The counts behind a wall's headline figures, straight from the lead tables. Test leads
 * (a form's "send a test", LinkedIn test leads) never count. Each query reads only rows
 * since the day's or the week's start: `leads_process_created_idx` (leads by process and
 * creation time) and `lead_history_at_idx` (history by time) keep that to the period's
 * rows, not the board's whole past. Without them the answers are the same, only slower.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Executor } from "../db/client.ts";

/** A time as one text parameter cast by the server: both drivers send it the same way. */
const stamp = (at: Date) => sql`${at.toISOString()}::timestamptz`;

/** Leads created in this process since `since` (whatever became of them since). */
export async function countNewLeads(db: Executor, processId: string, since: Date): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from leads
        where process_id = ${processId} and created_at >= ${stamp(since)} and not is_test`,
  );
  return row?.n ?? 0;
}

/**
 * Leads of this process marked sales-ready since `since`, by scoring, a tick, or a drag past
 * the gate: each lead once, however often it crossed. A lead counts on the board it is on now.
 */
export async function countSalesReadyCrossings(db: Executor, processId: string, since: Date): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(distinct h.lead_id)::int as n
        from lead_history h
        join leads l on l.id = h.lead_id
        where h.at >= ${stamp(since)}
          and h.kind = 'flag' and h.field = 'sales_ready' and h.to_value = 'true'::jsonb
          and l.process_id = ${processId} and not l.is_test`,
  );
  return row?.n ?? 0;
}

export interface StageEntryCounts {
  /** The stage's position in its process. */
  position: number;
  /** Leads that entered the stage since the start (created in it, moved or switched into it). */
  entered: number;
  /** Of those, how many entered a later stage after their first entry since the start. */
  advanced: number;
}

/**
 * Per stage of the process: the leads that entered it since `since`, and how many of them
 * went on to a later stage afterwards. Entries are history rows with a target stage
 * (creation, moves, gate advances, process switches), ordered by time then insertion.
 *
 * One sort: each entry learns the furthest stage its lead entered after it (`later_max`).
 * That furthest-after only shrinks along a lead's entries, so a lead's first entry into a
 * stage holds the largest of them: `max(later_max)` per lead and stage is the first entry's.
 * Test leads are dropped last, as an anti-join against the few test leads
 * (`leads_test_idx`, partial on is_test), not a join of every entry with its lead.
 */
export async function countStageEntries(db: Executor, processId: string, since: Date): Promise<StageEntryCounts[]> {
  return queryRows<StageEntryCounts>(
    db,
    sql`with entries as (
          select h.lead_id, s.position,
            max(s.position) over (
              partition by h.lead_id order by h.at, h.seq rows between 1 following and unbounded following
            ) as later_max
          from lead_history h
          join stages s on s.id = h.to_stage_id
          where h.at >= ${stamp(since)} and s.process_id = ${processId}
        ), firsts as (
          select lead_id, position, max(later_max) > position as advanced
          from entries
          group by lead_id, position
        )
        select position::int as position,
          count(*)::int as entered,
          (count(*) filter (where advanced))::int as advanced
        from firsts f
        where not exists (select 1 from leads l where l.is_test and l.id = f.lead_id)
        group by position
        order by position`,
  );
}
