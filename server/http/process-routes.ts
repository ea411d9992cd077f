import { Router } from "express";
import { guardedRouter } from "./guard.ts";
import { id } from "../../shared/schemas/common.ts";
import { processCreateInput, processUpdateInput } from "../../shared/schemas/processes.ts";
import type { ProcessService } from "../services/process-service.ts";
import { requireActor } from "./auth-routes.ts";
import { parseInput } from "./parse.ts";

export function processRoutes(processes: ProcessService, now: () => Date): Router {
  const router = guardedRouter();

  router.get("/processes", async (_req, res) => {
    const actor = requireActor(res);
    res.json(await processes.list(actor));
  });

  router.post("/processes", async (req, res) => {
    const actor = requireActor(res);
    res.status(201).json(await processes.create(actor, parseInput(processCreateInput, req.body), now()));
  });

  router.get("/processes/:id", async (req, res) => {
    const actor = requireActor(res);
    res.json(await processes.get(actor, parseInput(id, req.params.id)));
  });

  router.patch("/processes/:id", async (req, res) => {
    const actor = requireActor(res);
    const processId = parseInput(id, req.params.id);
    res.json(await processes.update(actor, processId, parseInput(processUpdateInput, req.body), now()));
  });

  return router;
}
