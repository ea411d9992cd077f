/**
 * Words for the administration pages: user status, API key scopes, wall screens and the
 * audit log. Pure, so the unit tests read the same sentences people do.
 */
import { viewLabels, type BoardView } from "../../../shared/domain/views.ts";
import type { ApiKeyScope } from "../../../shared/schemas/api-keys.ts";
import type { AuditAction, AuditEntry } from "../../../shared/schemas/audit.ts";
import type { UserView } from "../../../shared/schemas/users.ts";

export type UserStatus = "active" | "deactivated" | "invited";

/** Deactivated wins over invited: an invitation of a deactivated user cannot be accepted. */
export function userStatus(user: Pick<UserView, "active" | "invitePending">): UserStatus {
  if (!user.active) return "deactivated";
  return user.invitePending ? "invited" : "active";
}

/** What each scope lets an integration do (shared/domain/permissions.ts, scopeActions). */
export const scopeHelp: Record<ApiKeyScope, string> = {
  ingest: "Send interactions (web visits, email opens, calls) and LinkedIn lead syncs. For tracking and marketing tools.",
  read: "Watch boards and read leads, contacts and scores. For reporting and dashboards.",
  write: "Create and edit leads and contacts and move leads between stages. For CRMs and other systems that feed the pipeline.",
};

/** The views a wall may show: "My leads" means nothing on a screen nobody is signed in to. */
export const wallViews: readonly BoardView[] = ["all", "teleprospecting_queue", "sales_ready"];
export const wallViewLabel = (view: BoardView): string => viewLabels[view];

/** The audit filter's labels. */
export const auditActionLabels: Record<AuditAction, string> = {
  "user.created": "User created",
  "user.invited": "User invited",
  "user.invite_accepted": "Invitation accepted",
  "user.role_changed": "Role changed",
  "user.renamed": "User renamed",
  "user.deactivated": "User deactivated",
  "user.reactivated": "User reactivated",
  "api_key.created": "API key created",
  "api_key.revoked": "API key revoked",
  "display_token.created": "Wall display created",
  "display_token.revoked": "Wall display revoked",
  "lead.gate_overridden": "Gate overridden",
};

/** "<actor> <verb> <target>" reads as a sentence. */
const verbs: Record<AuditAction, string> = {
  "user.created": "created the user",
  "user.invited": "invited",
  "user.invite_accepted": "accepted the invitation of",
  "user.role_changed": "changed the role of",
  "user.renamed": "renamed",
  "user.deactivated": "deactivated",
  "user.reactivated": "reactivated",
  "api_key.created": "created the API key",
  "api_key.revoked": "revoked the API key",
  "display_token.created": "created the wall display",
  "display_token.revoked": "revoked the wall display",
  "lead.gate_overridden": "overrode gates to move the lead",
};

const targetWords: Record<AuditEntry["target"]["type"], string> = {
  user: "user",
  api_key: "API key",
  display_token: "wall display",
  lead: "lead",
};

export function auditSentence(entry: Pick<AuditEntry, "actor" | "action" | "target">): string {
  // Without a name the id stands in, after the kind of thing unless the verb already says it.
  const kind = targetWords[entry.target.type];
  const target = entry.target.name ?? `${verbs[entry.action].endsWith(kind) ? "" : `${kind} `}#${entry.target.id.slice(0, 8)}`;
  // Accepting one's own invitation names the person once.
  if (entry.action === "user.invite_accepted" && entry.actor.id === entry.target.id) return `${entry.actor.name} accepted their invitation`;
  return `${entry.actor.name} ${verbs[entry.action]} ${target}`;
}

/** "skippedGates" → "skipped gates". */
function words(key: string): string {
  return key.replace(/_/g, " ").replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
}

const isoMoment = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

function valueText(value: unknown): string {
  if (value === null || value === undefined) return "none";
  if (typeof value === "string") {
    // A moment (e.g. when an invitation expires) in the reader's own time.
    if (isoMoment.test(value) && !Number.isNaN(Date.parse(value))) return new Date(value).toLocaleString();
    return value.replace(/_/g, " ");
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.length ? value.map(valueText).join(", ") : "none";
  if (typeof value === "object") {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${words(k)} ${valueText(v)}`);
    return parts.length ? `(${parts.join(", ")})` : "none";
  }
  return String(value);
}

/**
 * Details as a line of text: `{from: "viewer", to: "marketer"}` → "from viewer to marketer",
 * anything else as "key: value" pairs. Never markup: the caller renders it as text.
 */
export function auditDetailsText(details: Record<string, unknown>): string {
  const entries = Object.entries(details ?? {});
  if (entries.length === 0) return "";
  const rest = entries.filter(([k]) => k !== "from" && k !== "to");
  const parts: string[] = [];
  if ("from" in details || "to" in details) parts.push(`from ${valueText(details.from)} to ${valueText(details.to)}`);
  for (const [key, value] of rest) parts.push(`${words(key)}: ${valueText(value)}`);
  return parts.join("; ");
}
