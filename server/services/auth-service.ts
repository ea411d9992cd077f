import { createHash, randomBytes } from "node:crypto";
import { DomainError } from "../../shared/errors.ts";
import type { LoginInput } from "../../shared/schemas/auth.ts";
import type { Role } from "../../shared/schemas/common.ts";
import type { Db } from "../db/client.ts";
import * as usersRepo from "../repositories/users.ts";
import type { Actor } from "./actor.ts";
import { hashPassword, unusableHash, verifyPassword } from "./passwords.ts";

export const sessionCookieName = "lpb_session";
const sessionTtlMs = 14 * 24 * 3600 * 1000;

const hashToken = (token: string) => createHash("sha256").update(token).digest("base64url");

export type SessionUser = usersRepo.PublicUser;

export function userActor(user: SessionUser): Actor {
  return { id: user.id, name: user.name, kind: "user", role: user.role };
}

export class AuthService {
  constructor(private readonly db: Db) {}

  async login(input: LoginInput, now: Date): Promise<{ token: string; user: SessionUser; expiresAt: Date }> {
    const user = await usersRepo.findUserByEmail(this.db, input.email);
    // Verify even for unknown emails, so the answer's timing does not tell which exist.
    const ok = await verifyPassword(input.password, user?.passwordHash ?? unusableHash);
    if (!user || !ok || !user.active) {
      throw new DomainError("UNAUTHENTICATED", "Email or password is wrong");
    }
    const token = randomBytes(32).toString("base64url");
    const expiresAt = new Date(now.getTime() + sessionTtlMs);
    await usersRepo.insertSession(this.db, { tokenHash: hashToken(token), userId: user.id, expiresAt });
    const { id, email, name, role, active } = user;
    return { token, user: { id, email, name, role, active }, expiresAt };
  }

  async logout(token: string): Promise<void> {
    await usersRepo.deleteSession(this.db, hashToken(token));
  }

  async userForSession(token: string, now: Date): Promise<SessionUser | undefined> {
    return (await this.sessionForToken(token, now))?.user;
  }

  /** The session's user and its id (the token's hash: safe to name rooms and logs with). */
  async sessionForToken(token: string, now: Date): Promise<{ user: SessionUser; sessionId: string } | undefined> {
    const sessionId = hashToken(token);
    const user = await usersRepo.findSessionUser(this.db, sessionId, now);
    return user ? { user, sessionId } : undefined;
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
