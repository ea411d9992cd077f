import { Router } from "express";
import { guardedRouter } from "./guard.ts";
import { id } from "../../shared/schemas/common.ts";
import { interactionBatch, scoringModelInput, scoringModelPatch, scoringPreviewInput } from "../../shared/schemas/scoring.ts";
import { batchItems, type InteractionService } from "../services/interaction-service.ts";
import type { ScoringModelService } from "../services/scoring-model-service.ts";
import { requirePermission } from "../services/actor.ts";
import { requireActor } from "./auth-routes.ts";
import { parseInput } from "./parse.ts";

/** Who may do something is checked before what they sent: a forbidden caller learns nothing from validation. */
export function scoringRoutes(models: ScoringModelService, interactions: InteractionService, now: () => Date): Router {
  const router = guardedRouter();

  router.get("/scoring-models", async (_req, res) => {
    res.json(await models.list(requireActor(res)));
  });

  router.post("/scoring-models", async (req, res) => {
    const actor = requireActor(res);
    requirePermission(actor, "model.manage");
    res.status(201).json(await models.create(actor, parseInput(scoringModelInput, req.body), now()));
  });

  // Registered before "/scoring-models/:id" so "preview" is never read as an id.
  router.post("/scoring-models/preview", async (req, res) => {
    const actor = requireActor(res);
    requirePermission(actor, "model.manage");
    res.json(await models.preview(actor, null, parseInput(scoringPreviewInput, req.body ?? {}), now()));
  });

  router.get("/scoring-models/:id", async (req, res) => {
    const actor = requireActor(res);
    res.json(await models.get(actor, parseInput(id, req.params.id)));
  });

  router.patch("/scoring-models/:id", async (req, res) => {
    const actor = requireActor(res);
    requirePermission(actor, "model.manage");
    const modelId = parseInput(id, req.params.id);
    res.json(await models.update(actor, modelId, parseInput(scoringModelPatch, req.body), now()));
  });

  router.post("/scoring-models/:id/preview", async (req, res) => {
    const actor = requireActor(res);
    requirePermission(actor, "model.manage");
    const modelId = parseInput(id, req.params.id);
    res.json(await models.preview(actor, modelId, parseInput(scoringPreviewInput, req.body ?? {}), now()));
  });

  router.get("/scoring-models/:id/insights", async (req, res) => {
    const actor = requireActor(res);
    res.json(await models.insights(actor, parseInput(id, req.params.id)));
  });

  router.get("/leads/:id/scores", async (req, res) => {
    const actor = requireActor(res);
    res.json(await models.explain(actor, parseInput(id, req.params.id), now()));
  });

  router.post("/interactions", async (req, res) => {
    const actor = requireActor(res);
    const batch = parseInput(interactionBatch, req.body);
    res.json(await interactions.ingest(actor, batchItems(batch), now()));
  });

  return router;
}
