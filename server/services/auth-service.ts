import { createHash, randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { DomainError } from "../../shared/errors.ts";
import type { LoginInput } from "../../shared/schemas/auth.ts";
import type { Role } from "../../shared/schemas/common.ts";
import type { Db } from "../db/client.ts";
import * as sessionsRepo from "../repositories/sessions.ts";
import * as usersRepo from "../repositories/users.ts";
import type { Actor } from "./actor.ts";
import { hashPassword, unusableHash, verifyPassword } from "./passwords.ts";

export const sessionCookieName = "lpb_session";
/** The absolute limit: a session ends 14 days after sign-in however busy it is. */
export const sessionTtlMs = 14 * 24 * 3600 * 1000;
export const defaultSessionIdleMinutes = 720;
/** A busy session writes `last_seen_at` at most this often. */
export const sessionTouchIntervalMs = 60_000;

/** A session's id: the SHA-256 of its token (safe to name rooms and logs with; the token is never stored). */
export const sessionIdOf = (token: string) => createHash("sha256").update(token).digest("base64url");

export type SessionUser = usersRepo.PublicUser;

export function userActor(user: SessionUser): Actor {
  return { id: user.id, name: user.name, kind: "user", role: user.role };
}

export interface AuthOptions {
  /** A session unused this long ends; default 720 (12 hours). */
  idleMinutes?: number;
}

export interface NewSession {
  token: string;
  sessionId: string;
  expiresAt: Date;
}

export class AuthService {
  readonly idleMs: number;
  /**
   * Per node: when this node last wrote each session's `last_seen_at`, so a socket sending
   * commands all day costs one write a minute, not one per command.
   */
  private readonly touchedAt = new Map<string, number>();

  constructor(
    private readonly db: Db,
    options: AuthOptions = {},
  ) {
    this.idleMs = (options.idleMinutes ?? defaultSessionIdleMinutes) * 60_000;
  }

  private idleSince(now: Date): Date {
    return new Date(now.getTime() - this.idleMs);
  }

  /**
   * Checks the password and starts a new session (a new token every time). The session the
   * request came with, if any, ends: its id is returned so its sockets can be ended too.
   */
  async login(
    input: LoginInput,
    now: Date,
    previousToken?: string,
  ): Promise<NewSession & { user: SessionUser; endedSessionId: string | undefined }> {
    const user = await usersRepo.findUserByEmail(this.db, input.email);
    // Verify even for unknown emails, so the answer's timing does not tell which exist.
    const ok = await verifyPassword(input.password, user?.passwordHash ?? unusableHash);
    if (!user || !ok || !user.active) {
      throw new DomainError("UNAUTHENTICATED", "Email or password is wrong");
    }
    const session = await this.startSession(user.id, now);
    let endedSessionId: string | undefined;
    if (previousToken) {
      const previous = sessionIdOf(previousToken);
      if (previous !== session.sessionId && (await sessionsRepo.deleteSession(this.db, previous))) endedSessionId = previous;
    }
    const { id, email, name, role, active } = user;
    return { ...session, user: { id, email, name, role, active }, endedSessionId };
  }

  /** A new session for a user who just proved who they are (login, an accepted invitation). */
  async startSession(userId: string, now: Date): Promise<NewSession> {
    const token = randomBytes(32).toString("base64url");
    const sessionId = sessionIdOf(token);
    const expiresAt = new Date(now.getTime() + sessionTtlMs);
    await sessionsRepo.insertSession(this.db, { tokenHash: sessionId, userId, expiresAt }, now);
    this.touchedAt.set(sessionId, now.getTime());
    return { token, sessionId, expiresAt };
  }

  /** Ends the session; returns its id when it existed (to end its sockets). */
  async logout(token: string): Promise<string | undefined> {
    const sessionId = sessionIdOf(token);
    this.touchedAt.delete(sessionId);
    return (await sessionsRepo.deleteSession(this.db, sessionId)) ? sessionId : undefined;
  }

  /**
   * The session's user and its id, when the session is live: within its absolute limit,
   * used within the idle time, its user active. Counts as use (written at most once a minute).
   */
  async sessionForToken(token: string, now: Date): Promise<{ user: SessionUser; sessionId: string } | undefined> {
    const sessionId = sessionIdOf(token);
    const found = await sessionsRepo.findLiveSession(this.db, sessionId, now, this.idleSince(now));
    if (!found) return undefined;
    if (now.getTime() - found.lastSeenAt.getTime() >= sessionTouchIntervalMs) {
      await sessionsRepo.touchSession(this.db, sessionId, now, this.idleSince(now));
      this.touchedAt.set(sessionId, now.getTime());
    }
    return { user: found.user, sessionId };
  }

  /**
   * Activity on an open socket keeps its session alive. Writes at most once a minute per
   * session and node; false when the write found the session gone or expired.
   */
  async touch(sessionId: string, now: Date): Promise<boolean> {
    const last = this.touchedAt.get(sessionId);
    if (last !== undefined && now.getTime() - last < sessionTouchIntervalMs) return true;
    this.touchedAt.set(sessionId, now.getTime());
    if (this.touchedAt.size > 10_000) this.forgetTouches(now);
    return sessionsRepo.touchSession(this.db, sessionId, now, this.idleSince(now));
  }

  private forgetTouches(now: Date): void {
    for (const [id, at] of this.touchedAt) if (now.getTime() - at >= sessionTouchIntervalMs) this.touchedAt.delete(id);
  }

  /** Deletes every session past its absolute limit or idle time; returns their ids (to end their sockets). */
  async sweepExpired(now: Date): Promise<string[]> {
    const ended = await sessionsRepo.deleteExpiredSessions(this.db, now, this.idleSince(now));
    for (const id of ended) this.touchedAt.delete(id);
    this.forgetTouches(now);
    return ended;
  }

  async createUser(input: { email: string; name: string; role: Role; password: string }): Promise<SessionUser> {
    const passwordHash = await hashPassword(input.password);
    return usersRepo.insertUser(this.db, {
      email: input.email.trim().toLowerCase(),
      name: input.name,
      role: input.role,
      passwordHash,
    });
  }

  /** BOOTSTRAP_ADMIN_*: on a database with no users, create this admin. */
  async bootstrapAdmin(admin: { email: string; password: string }): Promise<SessionUser | undefined> {
    if ((await usersRepo.countUsers(this.db)) > 0) return undefined;
    return this.createUser({ email: admin.email, name: "Administrator", role: "admin", password: admin.password });
  }
}

/**
 * Ends expired sessions every minute, and their open sockets with them (`onEnded`): an idle
 * session's board must not stay live on screen after it ended. Every node sweeps; each
 * deleted session is reported by exactly one of them.
 */
export function startSessionSweeper(options: {
  auth: AuthService;
  now: () => Date;
  logger: Logger;
  onEnded: (sessionId: string) => void;
  intervalMs?: number;
}): { close(): void } {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    options.auth
      .sweepExpired(options.now())
      .then((ended) => ended.forEach(options.onEnded))
      .catch((err: unknown) => options.logger.warn({ err }, "could not sweep expired sessions"))
      .finally(() => {
        running = false;
      });
  }, options.intervalMs ?? sessionTouchIntervalMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
