import type { Role } from "../schemas/common.ts";

/**
 * What each role may do. One table, checked by every transport through the services.
 * The full matrix (gates, imports, models, admin) grows here, never in handlers.
 */
export const actions = ["board.view", "lead.create", "lead.move", "lead.override_gate"] as const;
export type Action = (typeof actions)[number];

const allowed: Record<Action, readonly Role[]> = {
  "board.view": ["admin", "marketer", "telemarketer", "sales_manager", "salesperson", "viewer"],
  "lead.create": ["admin", "marketer", "telemarketer", "sales_manager", "salesperson"],
  "lead.move": ["admin", "marketer", "telemarketer", "sales_manager", "salesperson"],
  "lead.override_gate": ["admin", "sales_manager"],
};

export function can(role: Role, action: Action): boolean {
  return allowed[action].includes(role);
}
