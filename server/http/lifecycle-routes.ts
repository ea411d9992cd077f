import { Router } from "express";
import { guardedRouter } from "./guard.ts";
import type { z } from "zod";
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
import type { Actor } from "../services/actor.ts";
import type { LifecycleService } from "../services/lifecycle-service.ts";
import { requireActor } from "./auth-routes.ts";
import { parseInput } from "./parse.ts";

/** The lead's life after creation; every answer is the updated card (convert adds the opportunity). */
export function lifecycleRoutes(lifecycle: LifecycleService, now: () => Date): Router {
  const router = guardedRouter();

  /** `POST /leads/:id/<command>`: signed in, the id and the body parsed, the service's answer as JSON. */
  const command = <S extends z.ZodType>(
    name: string,
    body: S,
    run: (actor: Actor, leadId: string, input: z.infer<S>, at: Date) => Promise<unknown>,
  ) =>
    router.post(`/leads/:id/${name}`, async (req, res) => {
      const actor = requireActor(res);
      const leadId = parseInput(id, req.params.id);
      res.json(await run(actor, leadId, parseInput(body, req.body), now()));
    });

  command("flags", setFlagBody, (a, l, i, at) => lifecycle.setFlag(a, l, i, at));
  command("assign", assignBody, (a, l, i, at) => lifecycle.assign(a, l, i, at));
  command("stage-fields", stageFieldsBody, (a, l, i, at) => lifecycle.updateStageFields(a, l, i, at));
  command("convert", convertBody, (a, l, i, at) => lifecycle.convert(a, l, i, at));
  command("disqualify", disqualifyBody, (a, l, i, at) => lifecycle.disqualify(a, l, i, at));
  command("reopen", reopenBody, (a, l, i, at) => lifecycle.reopen(a, l, i, at));
  command("process", switchProcessBody, (a, l, i, at) => lifecycle.switchProcess(a, l, i, at));

  return router;
}
