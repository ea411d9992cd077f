import { Router } from "express";
import { id } from "../../shared/schemas/common.ts";
import {
  assignBody,
  convertBody,
  disqualifyBody,
  reopenBody,
  setFlagBody,
  stageFieldsBody,
  switchProcessBody,
} from "../../shared/schemas/lifecycle.ts";
import type { LifecycleService } from "../services/lifecycle-service.ts";
import { requireActor } from "./auth-routes.ts";
import { parseInput } from "./parse.ts";

/** The lead's life after creation; every answer is the updated card (convert adds the opportunity). */
export function lifecycleRoutes(lifecycle: LifecycleService, now: () => Date): Router {
  const router = Router();

  router.post("/leads/:id/flags", async (req, res) => {
    const actor = requireActor(res);
    const leadId = parseInput(id, req.params.id);
    res.json(await lifecycle.setFlag(actor, leadId, parseInput(setFlagBody, req.body), now()));
  });

  router.post("/leads/:id/assign", async (req, res) => {
    const actor = requireActor(res);
    const leadId = parseInput(id, req.params.id);
    res.json(await lifecycle.assign(actor, leadId, parseInput(assignBody, req.body), now()));
  });

  router.post("/leads/:id/stage-fields", async (req, res) => {
    const actor = requireActor(res);
    const leadId = parseInput(id, req.params.id);
    res.json(await lifecycle.updateStageFields(actor, leadId, parseInput(stageFieldsBody, req.body), now()));
  });

  router.post("/leads/:id/convert", async (req, res) => {
    const actor = requireActor(res);
    const leadId = parseInput(id, req.params.id);
    res.json(await lifecycle.convert(actor, leadId, parseInput(convertBody, req.body), now()));
  });

  router.post("/leads/:id/disqualify", async (req, res) => {
    const actor = requireActor(res);
    const leadId = parseInput(id, req.params.id);
    res.json(await lifecycle.disqualify(actor, leadId, parseInput(disqualifyBody, req.body), now()));
  });

  router.post("/leads/:id/reopen", async (req, res) => {
    const actor = requireActor(res);
    const leadId = parseInput(id, req.params.id);
    res.json(await lifecycle.reopen(actor, leadId, parseInput(reopenBody, req.body), now()));
  });

  router.post("/leads/:id/process", async (req, res) => {
    const actor = requireActor(res);
    const leadId = parseInput(id, req.params.id);
    res.json(await lifecycle.switchProcess(actor, leadId, parseInput(switchProcessBody, req.body), now()));
  });

  return router;
}
