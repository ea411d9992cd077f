import type { EventActor } from "../../shared/board.ts";
import { DomainError } from "../../shared/errors.ts";
import { principalCan, type Action } from "../../shared/domain/permissions.ts";
import type { BoardView } from "../../shared/domain/views.ts";
import type { Role } from "../../shared/schemas/common.ts";
import type { DisplayScreen } from "../../shared/schemas/display-tokens.ts";

/** Who is asking: a signed-in user, an API key, a wall display, or the system itself (simulator, automation). */
export interface Actor {
  id: string | null;
  name: string;
  kind: EventActor["kind"] | "display";
  role: Role;
  /** An API key's scopes; absent for people and the system. */
  scopes?: readonly string[];
  /** A wall display's token: the screens (board and view) it may watch, and nothing else. */
  display?: {
    tokenId: string;
    screens: readonly DisplayScreen[];
    /** The screens' boards by id, with the views shown of each (resolved when the display connects). */
    boards: Readonly<Record<string, readonly BoardView[]>>;
  };
  /** The API key an integration presented (its id), so revoking it can end its sockets. */
  apiKeyId?: string;
  /** The session a person signed in with (its hash), so logout can end that session's sockets. */
  sessionId?: string;
}

export const systemActor = (name: string): Actor => ({ id: null, name, kind: "system", role: "admin" });

/** Displays never write, so they never appear as an event's actor. */
export function toEventActor(actor: Actor): EventActor {
  return { id: actor.id, name: actor.name, kind: actor.kind === "display" ? "api" : actor.kind };
}

function describe(actor: Actor): string {
  switch (actor.kind) {
    case "api":
      return `This API key (scopes: ${(actor.scopes ?? []).join(", ") || "none"})`;
    case "display":
      return "A wall display";
    default:
      return `Your role (${actor.role})`;
  }
}

/** The one permission check (shared/domain/permissions.ts); FORBIDDEN names the action refused. */
export function requirePermission(actor: Actor, action: Action): void {
  if (!principalCan(actor, action)) {
    throw new DomainError("FORBIDDEN", `${describe(actor)} may not do this (${action})`);
  }
}
