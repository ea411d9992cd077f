import { Router } from "express";
import { guardedRouter } from "./guard.ts";
import { leadMoveBody } from "../../shared/schemas/board.ts";
import { id } from "../../shared/schemas/common.ts";
import { leadInput } from "../../shared/schemas/records.ts";
import type { LeadService } from "../services/lead-service.ts";
import { requireActor } from "./auth-routes.ts";
import { parseInput } from "./parse.ts";

export function leadRoutes(leads: LeadService, now: () => Date): Router {
  const router = guardedRouter();

  router.post("/leads", async (req, res) => {
    const actor = requireActor(res);
    const input = parseInput(leadInput, req.body);
    res.status(201).json(await leads.create(actor, input, now()));
  });

  router.get("/leads/:id", async (req, res) => {
    const actor = requireActor(res);
    const leadId = parseInput(id, req.params.id);
    res.json(await leads.detailFor(actor, leadId));
  });

  router.post("/leads/:id/move", async (req, res) => {
    const actor = requireActor(res);
    const leadId = parseInput(id, req.params.id);
    const input = parseInput(leadMoveBody, req.body);
    res.json(await leads.move(actor, { ...input, leadId }, now()));
  });

  return router;
}
