import type { CookieOptions, Request, RequestHandler, Response, Router } from "express";
import { guardedRouter } from "./guard.ts";
import { DomainError } from "../../shared/errors.ts";
import type { SessionEndReason } from "../../shared/events.ts";
import { loginInput } from "../../shared/schemas/auth.ts";
import type { Actor } from "../services/actor.ts";
import { sessionCookieName, userActor, type AuthService, type SessionUser } from "../services/auth-service.ts";
import { readCookie } from "./cookies.ts";
import { LoginLimiter, type LoginLimits } from "./login-limiter.ts";
import { parseInput } from "./parse.ts";

interface Locals {
  user?: SessionUser;
  actor?: Actor;
}

/**
 * The session cookie: out of scripts' reach (HttpOnly), not sent on other sites' POSTs,
 * fetches or frames (SameSite=Lax; only top-level GET links carry it, and every GET is a
 * read), and Secure whenever the request came over HTTPS (behind a TLS proxy: TRUST_PROXY).
 */
export function sessionCookieOptions(req: Request, expires?: Date): CookieOptions {
  return { httpOnly: true, sameSite: "lax", secure: req.secure, path: "/", ...(expires ? { expires } : {}) };
}

export function setSessionCookie(req: Request, res: Response, token: string, expiresAt: Date): void {
  res.cookie(sessionCookieName, token, sessionCookieOptions(req, expiresAt));
}

/** Resolves the session cookie (if any) into `res.locals.user` and `res.locals.actor`. */
export function sessionMiddleware(auth: AuthService, now: () => Date): RequestHandler {
  return async (req, res, next) => {
    const token = readCookie(req.headers.cookie, sessionCookieName);
    if (token) {
      const session = await auth.sessionForToken(token, now());
      if (session) {
        (res.locals as Locals).user = session.user;
        (res.locals as Locals).actor = { ...userActor(session.user), sessionId: session.sessionId };
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

export interface AuthRouteOptions {
  /** Ends a session's open sockets (logout, or the session a new sign-in replaces). */
  endSession?: (sessionId: string, reason: SessionEndReason) => void;
  /** Sign-in lockouts (defaults: docs/security.md). */
  loginLimits?: Partial<LoginLimits>;
}

export function authRoutes(auth: AuthService, now: () => Date, options: AuthRouteOptions = {}): Router {
  const router = guardedRouter();
  const limiter = new LoginLimiter(options.loginLimits);

  router.post("/auth/login", async (req, res) => {
    const input = parseInput(loginInput, req.body);
    const attempt = { email: input.email, ip: req.ip };
    const at = now();
    const wait = limiter.waitMs(attempt, at.getTime());
    if (wait > 0) res.setHeader("Retry-After", String(Math.ceil(wait / 1000)));
    limiter.admit(attempt, at.getTime());
    const previous = readCookie(req.headers.cookie, sessionCookieName);
    let signedIn: Awaited<ReturnType<AuthService["login"]>>;
    try {
      signedIn = await auth.login(input, at, previous);
    } catch (err) {
      if (err instanceof DomainError && err.code === "UNAUTHENTICATED") limiter.recordFailure(attempt, at.getTime());
      throw err;
    }
    limiter.recordSuccess(attempt);
    if (signedIn.endedSessionId) options.endSession?.(signedIn.endedSessionId, "signed_out");
    setSessionCookie(req, res, signedIn.token, signedIn.expiresAt);
    // Holds a fresh credential's consequences (the user): never cached.
    res.setHeader("Cache-Control", "no-store");
    res.json({ user: signedIn.user });
  });

  router.post("/auth/logout", async (req, res) => {
    const token = readCookie(req.headers.cookie, sessionCookieName);
    const ended = token ? await auth.logout(token) : undefined;
    if (ended) options.endSession?.(ended, "signed_out");
    res.clearCookie(sessionCookieName, sessionCookieOptions(req));
    res.status(204).end();
  });

  router.get("/me", (_req, res) => {
    const actor = requireActor(res);
    // An integration asking who it is: no person, but its key's name and scopes.
    if (actor.kind === "api") return void res.json({ user: null, apiKey: { name: actor.name, scopes: actor.scopes ?? [] } });
    res.json({ user: (res.locals as Locals).user });
  });

  return router;
}
