import { Router, type RequestHandler } from "express";
import { guardedRouter } from "./guard.ts";
import { DomainError } from "../../shared/errors.ts";
import { apiKeyInput } from "../../shared/schemas/api-keys.ts";
import { id } from "../../shared/schemas/common.ts";
import type { Actor } from "../services/actor.ts";
import type { ApiKeyService } from "../services/api-key-service.ts";
import { requireActor } from "./auth-routes.ts";
import { parseInput } from "./parse.ts";

/** The same `res.locals` that sessionMiddleware fills. */
interface Locals {
  user?: unknown;
  actor?: Actor;
}

const bearer = /^Bearer(?:[ \t]+(.*))?$/i;

/**
 * Resolves `Authorization: Bearer <key>` into `res.locals.actor` (an API key actor, role
 * "viewer" plus its scopes). Other schemes pass through untouched. A key that is presented
 * but unknown or revoked answers 401 rather than falling back to the session: an
 * integration should learn at once that its key no longer works.
 */
export function bearerMiddleware(apiKeys: ApiKeyService, now: () => Date): RequestHandler {
  return async (req, res, next) => {
    const match = bearer.exec(req.headers.authorization ?? "");
    if (!match) return next();
    const token = match[1]?.trim();
    const actor = token ? await apiKeys.authenticate(token, now()) : undefined;
    if (!actor) {
      res.setHeader("WWW-Authenticate", 'Bearer error="invalid_token"');
      throw new DomainError("UNAUTHENTICATED", "The API key is unknown or revoked");
    }
    // The key is what the caller presented: a session cookie sent along must not lend it a person.
    const locals = res.locals as Locals;
    delete locals.user;
    locals.actor = actor;
    next();
  };
}

export function apiKeyRoutes(apiKeys: ApiKeyService, now: () => Date): Router {
  const router = guardedRouter();

  router.post("/api-keys", async (req, res) => {
    const actor = requireActor(res);
    const input = parseInput(apiKeyInput, req.body);
    const created = await apiKeys.create(actor, input, now());
    // The only answer that ever holds the key: keep it out of every cache.
    res.setHeader("Cache-Control", "no-store");
    res.status(201).json(created);
  });

  router.get("/api-keys", async (_req, res) => {
    const actor = requireActor(res);
    res.json({ apiKeys: await apiKeys.list(actor) });
  });

  router.delete("/api-keys/:id", async (req, res) => {
    const actor = requireActor(res);
    const keyId = parseInput(id, req.params.id);
    res.json({ apiKey: await apiKeys.revoke(actor, keyId, now()) });
  });

  return router;
}
