import type { ApiKeyScope } from "../schemas/api-keys.ts";
import { roles, type Role } from "../schemas/common.ts";
import type { LeadFlag } from "./stages.ts";

/**
 * What each role may do: the one permission matrix. The server checks it for every HTTP
 * route and socket command (server/http/guard.ts, server/socket/commands.ts) and for the
 * checks that depend on what was sent (a gate ticked, an override); the client reads it
 * only to hide what would be refused. docs/permissions.md is generated from this file.
 */
export const actions = [
  "board.view",
  "presence.share",
  "lead.create",
  "lead.edit",
  "lead.move",
  "lead.override_gate",
  "lead.assign",
  "lead.convert",
  "lead.disqualify",
  "gate.ready_for_teleprospecting",
  "gate.teleprospecting_accepted",
  "gate.sales_ready",
  "gate.sales_accepted",
  "contact.edit",
  "form.manage",
  "event.manage",
  "event.check_in",
  "linkedin.sync",
  "interaction.ingest",
  "import.run",
  "strategy.manage",
  "process.manage",
  "segment.manage",
  "model.manage",
  "model.view",
  "user.manage",
  "api_key.manage",
  "display_token.manage",
  "audit.view",
] as const;
export type Action = (typeof actions)[number];

export const gateAction = (flag: LeadFlag): Action => `gate.${flag}`;

const everyone: readonly Role[] = roles;
const workers: readonly Role[] = ["admin", "marketer", "telemarketer", "sales_manager", "salesperson"];
const marketing: readonly Role[] = ["admin", "marketer"];
const sales: readonly Role[] = ["admin", "sales_manager", "salesperson"];
const adminOnly: readonly Role[] = ["admin"];

const allowed: Record<Action, readonly Role[]> = {
  "board.view": everyone,
  "presence.share": everyone,
  "lead.create": workers,
  "lead.edit": workers,
  "lead.move": workers,
  "lead.override_gate": ["admin", "sales_manager"],
  "lead.assign": ["admin", "sales_manager", "telemarketer"],
  "lead.convert": sales,
  "lead.disqualify": workers,
  // Each gate is ticked by the people whose step it closes (domain.md, the stage table).
  "gate.ready_for_teleprospecting": ["admin", "marketer", "telemarketer"],
  "gate.teleprospecting_accepted": ["admin", "telemarketer"],
  "gate.sales_ready": ["admin", "marketer", "telemarketer", "sales_manager"],
  "gate.sales_accepted": ["admin", "sales_manager", "salesperson"],
  "contact.edit": workers,
  "form.manage": marketing,
  "event.manage": marketing,
  "event.check_in": workers,
  "linkedin.sync": marketing,
  // Integrations only: no person posts interaction batches (API keys with the "ingest" scope).
  "interaction.ingest": [],
  "import.run": marketing,
  "strategy.manage": marketing,
  "process.manage": adminOnly,
  "segment.manage": marketing,
  "model.manage": marketing,
  // Scores and their breakdowns are on every card; the model editor and insights are for the people who act on them.
  "model.view": ["admin", "marketer", "sales_manager", "telemarketer"],
  "user.manage": adminOnly,
  "api_key.manage": adminOnly,
  "display_token.manage": adminOnly,
  "audit.view": adminOnly,
};

/** What an API key's scopes grant: never more than the data work an integration does, never administration. */
export const scopeActions: Record<ApiKeyScope, readonly Action[]> = {
  read: ["board.view", "model.view"],
  write: ["board.view", "lead.create", "lead.edit", "contact.edit", "lead.move"],
  ingest: ["interaction.ingest", "linkedin.sync"],
};

/** A wall display only watches the boards its token names. */
export const displayActions: readonly Action[] = ["board.view"];

export function can(role: Role, action: Action): boolean {
  return allowed[action].includes(role);
}

/** Who asks, as far as permissions go: a person (role), an API key (scopes), a wall display, or the system. */
export interface Principal {
  kind: "user" | "system" | "api" | "display";
  role: Role;
  scopes?: readonly string[];
}

export function principalCan(principal: Principal, action: Action): boolean {
  switch (principal.kind) {
    case "user":
    case "system":
      return can(principal.role, action);
    case "api":
      return (principal.scopes ?? []).some((scope) => scopeActions[scope as ApiKeyScope]?.includes(action) ?? false);
    case "display":
      return displayActions.includes(action);
  }
}

/** The roles allowed an action, for the docs and the matrix test. */
export function rolesAllowed(action: Action): readonly Role[] {
  return allowed[action];
}

/** Salespeople see only sales-ready leads and their own (domain.md, "Views"). */
export function canSeeLead(
  viewer: { role: Role; id: string | null },
  lead: { salesReady: boolean; ownerId: string | null },
): boolean {
  if (viewer.role !== "salesperson") return true;
  return lead.salesReady || (viewer.id !== null && lead.ownerId === viewer.id);
}
