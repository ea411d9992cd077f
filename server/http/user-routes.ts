import type { Request, Router } from "express";
import { id } from "../../shared/schemas/common.ts";
import { acceptInviteInput, userInput, userPatch, type UserCreated } from "../../shared/schemas/users.ts";
import type { UserService } from "../services/user-service.ts";
import { requireActor } from "./auth-routes.ts";
import { guardedRouter } from "./guard.ts";
import { parseInput } from "./parse.ts";

/**
 * The link an invited user opens: this server's origin as the caller reached it. Behind a
 * proxy, `trust proxy` makes protocol and host the forwarded ones.
 */
function inviteUrl(req: Request, token: string): string {
  return `${req.protocol}://${req.host}/invite/${token}`;
}

export function userRoutes(users: UserService, now: () => Date): Router {
  const router = guardedRouter();

  router.get("/users", async (_req, res) => {
    const actor = requireActor(res);
    res.json({ users: await users.list(actor) });
  });

  router.post("/users", async (req, res) => {
    const actor = requireActor(res);
    const input = parseInput(userInput, req.body);
    const { user, inviteToken } = await users.create(actor, input, now());
    const body: UserCreated = inviteToken ? { user, inviteUrl: inviteUrl(req, inviteToken) } : { user };
    // An invitation link is shown once: keep it out of every cache.
    res.setHeader("Cache-Control", "no-store");
    res.status(201).json(body);
  });

  router.patch("/users/:id", async (req, res) => {
    const actor = requireActor(res);
    const userId = parseInput(id, req.params.id);
    const patch = parseInput(userPatch, req.body);
    res.json({ user: await users.update(actor, userId, patch, now()) });
  });

  router.post("/users/:id/invite", async (req, res) => {
    const actor = requireActor(res);
    const userId = parseInput(id, req.params.id);
    const { user, inviteToken } = await users.reinvite(actor, userId, now());
    res.setHeader("Cache-Control", "no-store");
    res.json({ user, inviteUrl: inviteUrl(req, inviteToken) } satisfies UserCreated);
  });

  // Public: the invitation token is the credential. Sets the password; does not sign in.
  router.post("/auth/accept-invite", async (req, res) => {
    const input = parseInput(acceptInviteInput, req.body);
    res.json({ user: await users.acceptInvite(input, now()) });
  });

  return router;
}
