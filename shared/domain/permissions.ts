import type { Role } from "../schemas/common.ts";

/**
 * What each role may do. One table, checked by every transport through the services.
 * The full matrix (gates, imports, models, admin) grows here, never in handlers.
 */
export const actions = [
  "board.view",
  "lead.create",
  "lead.edit",
  "lead.move",
  "lead.override_gate",
  "lead.assign",
  "lead.convert",
  "lead.disqualify",
  "contact.edit",
  "form.manage",
  "event.manage",
  "event.check_in",
  "import.run",
  "strategy.manage",
  "process.manage",
  "segment.manage",
  "model.manage",
  "model.view",
  "api_key.manage",
] as const;
export type Action = (typeof actions)[number];

const everyone: readonly Role[] = ["admin", "marketer", "telemarketer", "sales_manager", "salesperson", "viewer"];
const workers: readonly Role[] = ["admin", "marketer", "telemarketer", "sales_manager", "salesperson"];
const marketing: readonly Role[] = ["admin", "marketer"];
const sales: readonly Role[] = ["admin", "sales_manager", "salesperson"];

const allowed: Record<Action, readonly Role[]> = {
  "board.view": everyone,
  "lead.create": workers,
  "lead.edit": workers,
  "lead.move": workers,
  "lead.override_gate": ["admin", "sales_manager"],
  "lead.assign": ["admin", "sales_manager", "telemarketer"],
  "lead.convert": sales,
  "lead.disqualify": ["admin", "marketer", "telemarketer", "sales_manager", "salesperson"],
  "contact.edit": workers,
  "form.manage": marketing,
  "event.manage": marketing,
  "event.check_in": workers,
  "import.run": marketing,
  "strategy.manage": marketing,
  "process.manage": ["admin"],
  "segment.manage": marketing,
  "model.manage": marketing,
  // Scores and their breakdowns are on every card; the model editor and insights are for the people who act on them.
  "model.view": ["admin", "marketer", "sales_manager", "telemarketer"],
  "api_key.manage": ["admin"],
};

export function can(role: Role, action: Action): boolean {
  return allowed[action].includes(role);
}
