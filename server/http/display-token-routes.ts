import type { Request, Router } from "express";
import { id } from "../../shared/schemas/common.ts";
import { displayTokenInput } from "../../shared/schemas/display-tokens.ts";
import type { DisplayTokenService } from "../services/display-token-service.ts";
import { requireActor } from "./auth-routes.ts";
import { guardedRouter } from "./guard.ts";
import { parseInput } from "./parse.ts";

/**
 * Where this app is served, as the admin reached it: the wall's URL is opened on a TV in
 * the same network. `req.protocol` and `req.host` follow X-Forwarded-* only when the app
 * trusts its proxy (`trust proxy`).
 */
const originOf = (req: Request) => `${req.protocol}://${req.host}`;

export function displayTokenRoutes(displayTokens: DisplayTokenService, now: () => Date): Router {
  const router = guardedRouter();

  router.post("/display-tokens", async (req, res) => {
    const actor = requireActor(res);
    const input = parseInput(displayTokenInput, req.body);
    const created = await displayTokens.create(actor, input, originOf(req), now());
    // The only answer that ever holds the token: keep it out of every cache.
    res.setHeader("Cache-Control", "no-store");
    res.status(201).json(created);
  });

  router.get("/display-tokens", async (_req, res) => {
    const actor = requireActor(res);
    res.json({ displayTokens: await displayTokens.list(actor) });
  });

  router.delete("/display-tokens/:id", async (req, res) => {
    const actor = requireActor(res);
    const tokenId = parseInput(id, req.params.id);
    res.json({ displayToken: await displayTokens.revoke(actor, tokenId, now()) });
  });

  return router;
}
