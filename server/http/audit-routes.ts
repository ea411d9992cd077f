import type { Router } from "express";
import { auditQuery } from "../../shared/schemas/audit.ts";
import type { AuditService } from "../services/audit-service.ts";
import { requireActor } from "./auth-routes.ts";
import { guardedRouter } from "./guard.ts";
import { parseInput } from "./parse.ts";

export function auditRoutes(audit: AuditService): Router {
  const router = guardedRouter();

  // `?action=&actorId=&before=&limit=`: a repeated or unknown parameter is INVALID_INPUT.
  router.get("/audit", async (req, res) => {
    const actor = requireActor(res);
    const query = parseInput(auditQuery, req.query);
    res.json(await audit.list(actor, query));
  });

  return router;
}
