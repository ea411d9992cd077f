import type { EventActor } from "../../shared/board.ts";
import { DomainError } from "../../shared/errors.ts";
import { can, type Action } from "../../shared/domain/permissions.ts";
import type { Role } from "../../shared/schemas/common.ts";

/** Who is asking: a signed-in user, an API key, or the system itself (simulator, automation). */
export interface Actor {
  id: string | null;
  name: string;
  kind: EventActor["kind"];
  role: Role;
  /** An API key's scopes; absent for people and the system. */
  scopes?: readonly string[];
}

export const systemActor = (name: string): Actor => ({ id: null, name, kind: "system", role: "admin" });

export function toEventActor(actor: Actor): EventActor {
  return { id: actor.id, name: actor.name, kind: actor.kind };
}

export function requirePermission(actor: Actor, action: Action): void {
  if (!can(actor.role, action)) {
    throw new DomainError("FORBIDDEN", `Your role (${actor.role}) may not do this (${action})`);
  }
}
