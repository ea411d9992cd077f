import type { AuditPage, AuditQuery } from "../../shared/schemas/audit.ts";
import type { Db } from "../db/client.ts";
import { listAudit } from "../repositories/audit.ts";
import { requirePermission, type Actor } from "./actor.ts";

/** Reading the audit log. Entries are written by the services whose changes they record, in the same transaction. */
export class AuditService {
  constructor(private readonly db: Db) {}

  /** Newest first, filtered by action and actor; `before` pages back from an entry. */
  async list(actor: Actor, query: AuditQuery): Promise<AuditPage> {
    requirePermission(actor, "audit.view");
    return listAudit(this.db, query);
  }
}
