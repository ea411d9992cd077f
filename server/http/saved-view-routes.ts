import { Router } from "express";
import { guardedRouter } from "./guard.ts";
import { id } from "../../shared/schemas/common.ts";
import { savedViewInput, savedViewPatch } from "../../shared/schemas/saved-views.ts";
import type { SavedViewService } from "../services/saved-view-service.ts";
import { requireActor } from "./auth-routes.ts";
import { parseInput } from "./parse.ts";

export function savedViewRoutes(savedViews: SavedViewService, now: () => Date): Router {
  const router = guardedRouter();

  router.get("/saved-views", async (_req, res) => {
    const actor = requireActor(res);
    res.json(await savedViews.list(actor));
  });

  router.post("/saved-views", async (req, res) => {
    const actor = requireActor(res);
    const input = parseInput(savedViewInput, req.body);
    res.status(201).json(await savedViews.create(actor, input, now()));
  });

  router.patch("/saved-views/:id", async (req, res) => {
    const actor = requireActor(res);
    const viewId = parseInput(id, req.params.id);
    const patch = parseInput(savedViewPatch, req.body);
    res.json(await savedViews.update(actor, viewId, patch, now()));
  });

  router.delete("/saved-views/:id", async (req, res) => {
    const actor = requireActor(res);
    const viewId = parseInput(id, req.params.id);
    await savedViews.delete(actor, viewId);
    res.status(204).end();
  });

  return router;
}
