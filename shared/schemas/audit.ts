import { z } from "zod";
import { id } from "./common.ts";

/** What the audit log records: administration and gate overrides. */
export const auditActions = [
  "user.created",
  "user.invited",
  "user.invite_accepted",
  "user.role_changed",
  "user.renamed",
  "user.deactivated",
  "user.reactivated",
  "api_key.created",
  "api_key.revoked",
  "display_token.created",
  "display_token.revoked",
  "lead.gate_overridden",
] as const;
export type AuditAction = (typeof auditActions)[number];

export interface AuditEntry {
  id: string;
  at: string;
  actor: { id: string | null; name: string; kind: "user" | "system" | "api" };
  action: AuditAction;
  target: { type: "user" | "api_key" | "display_token" | "lead"; id: string; name: string | null };
  /** What changed, e.g. `{from: "viewer", to: "marketer"}` or the gates an override skipped. */
  details: Record<string, unknown>;
}

/** `GET /api/audit?action=&actorId=&before=&limit=`: newest first; `before` is the last entry's id of the previous page. */
export const auditQuery = z.strictObject({
  action: z.enum(auditActions).optional(),
  actorId: id.optional(),
  before: id.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type AuditQuery = z.infer<typeof auditQuery>;

export interface AuditPage {
  entries: AuditEntry[];
  /** Pass as `before` for older entries; absent at the end. */
  nextBefore?: string;
}
