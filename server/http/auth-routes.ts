import { Router, type RequestHandler, type Response } from "express";
import { guardedRouter } from "./guard.ts";
import { DomainError } from "../../shared/errors.ts";
import { loginInput } from "../../shared/schemas/auth.ts";
import type { Actor } from "../services/actor.ts";
import { sessionCookieName, userActor, type AuthService, type SessionUser } from "../services/auth-service.ts";
import { readCookie } from "./cookies.ts";
import { parseInput } from "./parse.ts";

interface Locals {
  user?: SessionUser;
  actor?: Actor;
}

/** Resolves the session cookie (if any) into `res.locals.user` and `res.locals.actor`. */
export function sessionMiddleware(auth: AuthService, now: () => Date): RequestHandler {
  return async (req, res, next) => {
    const token = readCookie(req.headers.cookie, sessionCookieName);
    if (token) {
      const user = await auth.userForSession(token, now());
      if (user) {
        (res.locals as Locals).user = user;
        (res.locals as Locals).actor = userActor(user);
      }
    }
    next();
  };
}

export function requireActor(res: Response): Actor {
  const actor = (res.locals as Locals).actor;
  if (!actor) throw new DomainError("UNAUTHENTICATED", "Sign in first");
  return actor;
}

export function authRoutes(auth: AuthService, now: () => Date): Router {
  const router = guardedRouter();

  router.post("/auth/login", async (req, res) => {
    const input = parseInput(loginInput, req.body);
    const { token, user, expiresAt } = await auth.login(input, now());
    res.cookie(sessionCookieName, token, {
      httpOnly: true,
      sameSite: "lax",
      secure: req.secure,
      path: "/",
      expires: expiresAt,
    });
    res.json({ user });
  });

  router.post("/auth/logout", async (req, res) => {
    const token = readCookie(req.headers.cookie, sessionCookieName);
    if (token) await auth.logout(token);
    res.clearCookie(sessionCookieName, { path: "/" });
    res.status(204).end();
  });

  router.get("/me", (_req, res) => {
    requireActor(res);
    res.json({ user: (res.locals as Locals).user });
  });

  return router;
}
