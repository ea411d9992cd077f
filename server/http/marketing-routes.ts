import { Router } from "express";
import { guardedRouter } from "./guard.ts";
import { id } from "../../shared/schemas/common.ts";
import {
  checkInInput,
  eventInput,
  formInput,
  formPatch,
  journeyCreateLeadInput,
  journeyId,
  strategyInput,
} from "../../shared/schemas/intake.ts";
import { linkedinFormOptions, linkedinLeadResponses } from "../../shared/schemas/linkedin.ts";
import type { EventService } from "../services/event-service.ts";
import type { FormService } from "../services/form-service.ts";
import type { LinkedinService } from "../services/linkedin-service.ts";
import type { RecordsService } from "../services/records-service.ts";
import type { StrategyService } from "../services/strategy-service.ts";
import { requireActor } from "./auth-routes.ts";
import { formSnippet } from "./form-snippet.ts";
import { parseInput } from "./parse.ts";

interface Deps {
  forms: FormService;
  events: EventService;
  linkedin: LinkedinService;
  records: RecordsService;
  strategies: StrategyService;
}

/** Managing forms, events, LinkedIn forms, strategies, and the journey step (signed in). */
export function marketingRoutes(deps: Deps, now: () => Date): Router {
  const router = guardedRouter();

  router.get("/forms", async (_req, res) => {
    requireActor(res);
    res.json(await deps.forms.list());
  });
  router.post("/forms", async (req, res) => {
    const form = await deps.forms.create(requireActor(res), parseInput(formInput, req.body), now());
    res.status(201).json(form);
  });
  router.get("/forms/:id", async (req, res) => {
    requireActor(res);
    res.json(await deps.forms.get(parseInput(id, req.params.id)));
  });
  router.patch("/forms/:id", async (req, res) => {
    const actor = requireActor(res);
    res.json(await deps.forms.update(actor, parseInput(id, req.params.id), parseInput(formPatch, req.body), now()));
  });
  /** A copy-paste HTML form that posts to this form's public endpoint from any site. */
  router.get("/forms/:id/snippet", async (req, res) => {
    requireActor(res);
    const form = await deps.forms.get(parseInput(id, req.params.id));
    const base = `${req.protocol}://${req.get("host")}`;
    res.type("text/plain").send(formSnippet(form, base));
  });

  router.get("/events", async (_req, res) => {
    requireActor(res);
    res.json(await deps.events.list());
  });
  router.post("/events", async (req, res) => {
    res.status(201).json(await deps.events.create(requireActor(res), parseInput(eventInput, req.body), now()));
  });
  router.get("/events/:id", async (req, res) => {
    requireActor(res);
    res.json(await deps.events.get(parseInput(id, req.params.id)));
  });
  router.post("/events/:id/check-ins", async (req, res) => {
    const actor = requireActor(res);
    const result = await deps.events.checkIn(actor, parseInput(id, req.params.id), parseInput(checkInInput, req.body), now());
    res.status(result.status).json(result.body);
  });

  router.get("/integrations/linkedin/forms", async (_req, res) => {
    requireActor(res);
    res.json(await deps.linkedin.listForms());
  });
  router.post("/integrations/linkedin/forms", async (req, res) => {
    const actor = requireActor(res);
    const options = parseInput(linkedinFormOptions, req.query);
    res.status(201).json(await deps.linkedin.saveForm(actor, req.body, options, now()));
  });
  router.post("/integrations/linkedin/lead-responses", async (req, res) => {
    const actor = requireActor(res);
    const responses = parseInput(linkedinLeadResponses, req.body);
    res.json(await deps.linkedin.syncResponses(actor, responses, now()));
  });

  router.post("/journeys/:journeyId/create-lead", async (req, res) => {
    const actor = requireActor(res);
    const journey = parseInput(journeyId, req.params.journeyId);
    res.status(201).json(await deps.records.journeyCreateLead(actor, journey, parseInput(journeyCreateLeadInput, req.body), now()));
  });

  router.get("/matching-strategies", async (_req, res) => {
    requireActor(res);
    res.json(await deps.strategies.list());
  });
  router.post("/matching-strategies", async (req, res) => {
    res.status(201).json(await deps.strategies.create(requireActor(res), parseInput(strategyInput, req.body)));
  });

  return router;
}
