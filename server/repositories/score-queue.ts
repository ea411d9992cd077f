import { sql } from "drizzle-orm";
import { queryRows, uuidList, type Executor, type Tx } from "../db/client.ts";

// ---- the queue of leads to evaluate ----

/** Asks for these leads to be evaluated at `dueAt` (or earlier, if already asked). */
export async function scheduleScoring(tx: Executor, leadIds: readonly string[], dueAt: Date): Promise<void> {
  if (leadIds.length === 0) return;
  const unique = [...new Set(leadIds)].sort();
  await tx.execute(sql`
    insert into score_queue (lead_id, due_at)
    select id, ${dueAt.toISOString()}::timestamptz from unnest(${uuidList(unique)}) as id
    on conflict (lead_id) do update set due_at = least(score_queue.due_at, excluded.due_at), mark = excluded.mark`);
}

export interface QueueEntry {
  leadId: string;
  /** Null for a window expiry (nothing on the queue to remove). */
  mark: number | null;
}

/**
 * The leads due now, without locking them: recording keeps adding requests while the worker
 * scores, and must never wait for a scoring round. `servedQueueEntries` removes only the
 * requests that were read, so one that arrives meanwhile is served by the next round.
 */
export async function dueEntries(db: Executor, now: Date, limit: number, notThese: readonly string[] = []): Promise<QueueEntry[]> {
  const at = now.toISOString();
  const skip = uuidList(notThese);
  // Requests (new interactions, changed leads), then window expiries: the moment a counted
  // interaction leaves its window is each score's next_expiry_at.
  const rows = await queryRows<{ lead_id: string; mark: string | number | null }>(
    db,
    sql`(select lead_id, mark from score_queue where due_at <= ${at}::timestamptz and lead_id <> all(${skip})
         order by due_at limit ${limit})
        union all
        (select distinct lead_id, null::bigint from lead_scores where next_expiry_at <= ${at}::timestamptz
         and lead_id <> all(${skip}) limit ${limit})`,
  );
  const entries = new Map<string, QueueEntry>();
  for (const r of rows) {
    if (entries.size >= limit && !entries.has(r.lead_id)) break;
    const known = entries.get(r.lead_id);
    if (!known || (known.mark === null && r.mark !== null)) entries.set(r.lead_id, { leadId: r.lead_id, mark: r.mark === null ? null : Number(r.mark) });
  }
  return [...entries.values()];
}

/**
 * Removes the requests that were served. Rows are locked in lead order first, the order
 * recording's upsert locks them in: a delete joined to the list would lock them in whatever
 * order its plan visits them, and deadlock with a batch being recorded at the same moment.
 * A request renewed meanwhile (another mark) is not locked, so it stays for the next round.
 */
export async function servedQueueEntries(tx: Tx, entries: readonly QueueEntry[]): Promise<void> {
  const requests = entries.filter((e) => e.mark !== null).sort((a, b) => (a.leadId < b.leadId ? -1 : a.leadId > b.leadId ? 1 : 0));
  if (requests.length === 0) return;
  await tx.execute(sql`
    with served as (
      select q.lead_id from score_queue q
      where q.lead_id = any(${uuidList(requests.map((e) => e.leadId))})
        -- Marks come from one sequence, so a mark names one request: matching both lists is
        -- matching the pairs. (A join with unnest made the planner, on the queue's stale
        -- statistics, compare every listed pair with every row: 30-40 ms a batch, 2 ms now.)
        and q.mark = any(${`{${requests.map((e) => e.mark).join(",")}}`}::bigint[])
      order by q.lead_id
      for update of q)
    delete from score_queue using served where score_queue.lead_id = served.lead_id`);
}

export async function nextDueAt(db: Executor): Promise<Date | null> {
  const rows = await queryRows<{ at: string | null }>(
    db,
    sql`select to_json(least((select min(due_at) from score_queue), (select min(next_expiry_at) from lead_scores))) as at`,
  );
  const value = rows[0]?.at;
  return value ? new Date(value) : null;
}

/** Leads waiting to be scored now: requests, and scores whose window expired. */
export async function queueDepth(db: Executor, now: Date): Promise<number> {
  const at = now.toISOString();
  const rows = await queryRows<{ n: number }>(
    db,
    sql`select ((select count(*) from score_queue where due_at <= ${at}::timestamptz)
      + (select count(distinct lead_id) from lead_scores where next_expiry_at <= ${at}::timestamptz))::int as n`,
  );
  return Number(rows[0]?.n ?? 0);
}
