import { Router, type RequestHandler } from "express";
import type { Action } from "../../shared/domain/permissions.ts";
import { requirePermission } from "../services/actor.ts";
import { requireActor } from "./auth-routes.ts";

/**
 * Who may call each HTTP route: an action of the permission matrix, "signed_in" (any
 * person, key or display that authenticated), or "public". Every route of the API is
 * registered through `guardedRouter`, which refuses to register one missing here and puts
 * the check in front of its handler: one mechanism, and the permission matrix test drives
 * every row of this table.
 */
export type RouteAccess = Action | "signed_in" | "public";

export const routeAccess = {
  // Signing in and out, invitations.
  "POST /api/auth/login": "public",
  "POST /api/auth/logout": "public",
  "POST /api/auth/accept-invite": "public",
  "GET /api/me": "signed_in",
  // Public intake (rate-limited per address).
  "POST /api/forms/:formId/submissions": "public",
  "POST /api/events/:eventId/registrations": "public",
  // Leads and the board.
  "GET /api/leads": "board.view",
  "POST /api/leads": "lead.create",
  "GET /api/leads/:id": "board.view",
  "PATCH /api/leads/:id": "lead.edit",
  "POST /api/leads/:id/move": "lead.move",
  "GET /api/leads/:id/scores": "board.view",
  // Gate checkboxes: each flag's own gate action is checked by the service as well.
  "POST /api/leads/:id/flags": "lead.edit",
  "POST /api/leads/:id/assign": "lead.assign",
  "POST /api/leads/:id/stage-fields": "lead.edit",
  "POST /api/leads/:id/convert": "lead.convert",
  "POST /api/leads/:id/disqualify": "lead.disqualify",
  "POST /api/leads/:id/reopen": "lead.disqualify",
  "POST /api/leads/:id/process": "lead.move",
  "GET /api/saved-views": "board.view",
  "POST /api/saved-views": "board.view",
  "PATCH /api/saved-views/:id": "board.view",
  "DELETE /api/saved-views/:id": "board.view",
  // Contacts and accounts.
  "GET /api/contacts": "board.view",
  "POST /api/contacts": "contact.edit",
  "GET /api/contacts/:id": "board.view",
  "PATCH /api/contacts/:id": "contact.edit",
  "GET /api/accounts": "board.view",
  "POST /api/accounts": "contact.edit",
  "GET /api/accounts/:id": "board.view",
  "PATCH /api/accounts/:id": "contact.edit",
  // Lead generation.
  "GET /api/forms": "board.view",
  "POST /api/forms": "form.manage",
  "GET /api/forms/:id": "board.view",
  "PATCH /api/forms/:id": "form.manage",
  "GET /api/forms/:id/snippet": "form.manage",
  "GET /api/events": "board.view",
  "POST /api/events": "event.manage",
  "GET /api/events/:id": "board.view",
  "POST /api/events/:id/check-ins": "event.check_in",
  "GET /api/integrations/linkedin/forms": "form.manage",
  "POST /api/integrations/linkedin/forms": "form.manage",
  "POST /api/integrations/linkedin/lead-responses": "linkedin.sync",
  "POST /api/journeys/:journeyId/create-lead": "lead.create",
  "POST /api/imports": "import.run",
  "GET /api/imports/:id": "import.run",
  "POST /api/interactions": "interaction.ingest",
  // Matching, scoring, segments, processes.
  "GET /api/matching-strategies": "board.view",
  "POST /api/matching-strategies": "strategy.manage",
  "GET /api/scoring-models": "board.view",
  "POST /api/scoring-models": "model.manage",
  "POST /api/scoring-models/preview": "model.manage",
  "GET /api/scoring-models/:id": "board.view",
  "PATCH /api/scoring-models/:id": "model.manage",
  "POST /api/scoring-models/:id/preview": "model.manage",
  "GET /api/scoring-models/:id/insights": "model.view",
  "GET /api/segments": "board.view",
  "POST /api/segments": "segment.manage",
  "POST /api/segments/preview": "board.view",
  "GET /api/segments/:id": "board.view",
  "PATCH /api/segments/:id": "segment.manage",
  "DELETE /api/segments/:id": "segment.manage",
  "GET /api/segments/:id/members": "board.view",
  "GET /api/processes": "board.view",
  "POST /api/processes": "process.manage",
  "GET /api/processes/:id": "board.view",
  "PATCH /api/processes/:id": "process.manage",
  // Administration.
  "GET /api/users": "user.manage",
  "POST /api/users": "user.manage",
  "PATCH /api/users/:id": "user.manage",
  "POST /api/users/:id/invite": "user.manage",
  "GET /api/api-keys": "api_key.manage",
  "POST /api/api-keys": "api_key.manage",
  "DELETE /api/api-keys/:id": "api_key.manage",
  "GET /api/display-tokens": "display_token.manage",
  "POST /api/display-tokens": "display_token.manage",
  "DELETE /api/display-tokens/:id": "display_token.manage",
  "GET /api/audit": "audit.view",
} as const satisfies Record<string, RouteAccess>;

export type RouteKey = keyof typeof routeAccess;

const methods = ["get", "post", "patch", "put", "delete"] as const;
type Method = (typeof methods)[number];

/** Checks the caller against one row of the table before anything else (a refused caller learns nothing from validation). */
export function guard(access: RouteAccess): RequestHandler {
  return (_req, res, next) => {
    if (access !== "public") {
      const actor = requireActor(res);
      if (access !== "signed_in") requirePermission(actor, access);
    }
    next();
  };
}

/**
 * A Router for routers mounted at `/api` whose get/post/patch/put/delete put the route's
 * guard first. Registering a path the table does not name throws at start-up.
 */
export function guardedRouter(mount = "/api"): Router {
  const router = Router();
  for (const method of methods) {
    const register = router[method].bind(router) as (path: string, ...handlers: RequestHandler[]) => Router;
    (router as unknown as Record<Method, unknown>)[method] = (path: string, ...handlers: RequestHandler[]) => {
      const key = `${method.toUpperCase()} ${mount}${path}`;
      const access = (routeAccess as Record<string, RouteAccess>)[key];
      if (!access) throw new Error(`${key} is not in the permission table (server/http/guard.ts)`);
      return register(path, guard(access), ...handlers);
    };
  }
  return router;
}
