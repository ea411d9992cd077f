import { Router } from "express";
import { guardedRouter } from "./guard.ts";
import { id } from "../../shared/schemas/common.ts";
import { segmentInput, segmentPage, segmentPatch, segmentPreviewInput } from "../../shared/schemas/segments.ts";
import type { SegmentService } from "../services/segment-service.ts";
import { requireActor } from "./auth-routes.ts";
import { parseInput } from "./parse.ts";

export function segmentRoutes(segments: SegmentService): Router {
  const router = guardedRouter();

  router.get("/segments", async (_req, res) => {
    const actor = requireActor(res);
    res.json(await segments.list(actor));
  });

  router.post("/segments", async (req, res) => {
    const actor = requireActor(res);
    const input = parseInput(segmentInput, req.body);
    res.status(201).json(await segments.create(actor, input));
  });

  // Registered before "/segments/:id" so "preview" is never read as an id.
  router.post("/segments/preview", async (req, res) => {
    const actor = requireActor(res);
    const { query } = parseInput(segmentPreviewInput, req.body);
    res.json(await segments.preview(actor, query));
  });

  router.get("/segments/:id", async (req, res) => {
    const actor = requireActor(res);
    const segmentId = parseInput(id, req.params.id);
    res.json(await segments.get(actor, segmentId));
  });

  router.patch("/segments/:id", async (req, res) => {
    const actor = requireActor(res);
    const segmentId = parseInput(id, req.params.id);
    const patch = parseInput(segmentPatch, req.body);
    res.json(await segments.update(actor, segmentId, patch));
  });

  router.delete("/segments/:id", async (req, res) => {
    const actor = requireActor(res);
    const segmentId = parseInput(id, req.params.id);
    await segments.delete(actor, segmentId);
    res.status(204).end();
  });

  router.get("/segments/:id/members", async (req, res) => {
    const actor = requireActor(res);
    const segmentId = parseInput(id, req.params.id);
    const page = parseInput(segmentPage, req.query);
    res.json(await segments.members(actor, segmentId, page));
  });

  return router;
}
