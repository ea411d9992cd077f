import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { auditLog } from "../../drizzle/schema.ts";
import type { AuditAction, AuditEntry, AuditPage, AuditQuery } from "../../shared/schemas/audit.ts";
import type { Executor } from "../db/client.ts";
import { toEventActor, type Actor } from "../services/actor.ts";

export type AuditRow = typeof auditLog.$inferSelect;

export interface AuditRecord {
  actor: Actor;
  action: AuditAction;
  target: AuditEntry["target"];
  details?: Record<string, unknown>;
  at: Date;
}

/** Appends one entry; pass the transaction of the change it records, so both commit or neither. */
export async function insertAudit(db: Executor, record: AuditRecord): Promise<void> {
  const actor = toEventActor(record.actor);
  await db.insert(auditLog).values({
    at: record.at,
    actorId: actor.id,
    actorName: actor.name,
    actorKind: actor.kind,
    action: record.action,
    targetType: record.target.type,
    targetId: record.target.id,
    targetName: record.target.name,
    details: record.details ?? {},
  });
}

export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: { id: row.actorId, name: row.actorName, kind: row.actorKind },
    action: row.action,
    target: { type: row.targetType, id: row.targetId, name: row.targetName },
    details: row.details,
  };
}

/** Newest first; `before` continues after an entry of the previous page. */
export async function listAudit(db: Executor, query: AuditQuery): Promise<AuditPage> {
  const where: SQL[] = [];
  if (query.action) where.push(eq(auditLog.action, query.action));
  if (query.actorId) where.push(eq(auditLog.actorId, query.actorId));
  if (query.before) {
    const [cursor] = await db.select({ position: auditLog.position }).from(auditLog).where(eq(auditLog.id, query.before));
    if (!cursor) return { entries: [] };
    where.push(lt(auditLog.position, cursor.position));
  }
  const rows = await db
    .select()
    .from(auditLog)
    .where(where.length ? and(...where) : undefined)
    .orderBy(desc(auditLog.position))
    .limit(query.limit + 1);
  const entries = rows.slice(0, query.limit).map(toAuditEntry);
  return rows.length > query.limit ? { entries, nextBefore: entries.at(-1)!.id } : { entries };
}
