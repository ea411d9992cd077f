import { createHash, randomBytes } from "node:crypto";
import { DomainError } from "../../shared/errors.ts";
import type { SessionEndReason } from "../../shared/events.ts";
import { userRoom } from "../../shared/events.ts";
import type { AuditAction } from "../../shared/schemas/audit.ts";
import type { AcceptInviteInput, UserInput, UserPatch, UserView } from "../../shared/schemas/users.ts";
import type { Db, Executor } from "../db/client.ts";
import { insertAudit } from "../repositories/audit.ts";
import * as usersRepo from "../repositories/users.ts";
import type { UserRow } from "../repositories/users.ts";
import { requirePermission, type Actor } from "./actor.ts";
import { userActor } from "./auth-service.ts";
import { hashPassword, unusableHash } from "./passwords.ts";

/** How long an invitation link stays valid. */
export const inviteTtlMs = 7 * 24 * 3600 * 1000;

// Like sessions and API keys: only the hash is stored, so a database leak yields no usable link.
const hashToken = (token: string) => createHash("sha256").update(token).digest("base64url");

/** One answer for every link that does not work, so a guessed token learns nothing about users. */
const invalidInvite = () =>
  new DomainError(
    "NOT_FOUND",
    "This invitation link is not valid: it may have expired or already been used. Ask an administrator for a new one.",
  );

export interface UserServiceDeps {
  db: Db;
  /** Ends every open socket in `room` (after commit): tells them why, then disconnects them. */
  endSockets: (room: string, reason: SessionEndReason) => void;
}

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    active: row.active,
    invitePending: row.inviteTokenHash !== null,
    createdAt: row.createdAt.toISOString(),
  };
}

const auditTarget = (row: UserRow) => ({ type: "user" as const, id: row.id, name: row.name });

/** A fresh invitation: the token goes to the caller once; the row keeps its hash and expiry. */
function newInvite(now: Date) {
  const token = randomBytes(32).toString("base64url");
  return { token, inviteTokenHash: hashToken(token), inviteExpiresAt: new Date(now.getTime() + inviteTtlMs) };
}

/** The email index is unique on lower(email): a race past the pre-check lands here. */
function isDuplicateEmail(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const fields = e as { code?: unknown; constraint?: unknown; constraint_name?: unknown };
    if (fields.code === "23505") return (fields.constraint ?? fields.constraint_name) === "users_email_key";
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

const duplicateEmail = (email: string) => new DomainError("CONFLICT", `A user with the email ${email} already exists`);

/**
 * People and their access: creating and inviting users, changing roles, deactivating.
 * Every change writes its audit entry in the same transaction; sockets are ended only
 * after commit, so a refused or rolled-back change never disconnects anyone.
 */
export class UserService {
  private readonly db: Db;
  private readonly endSockets: UserServiceDeps["endSockets"];

  constructor(deps: UserServiceDeps) {
    this.db = deps.db;
    this.endSockets = deps.endSockets;
  }

  async list(actor: Actor): Promise<UserView[]> {
    requirePermission(actor, "user.manage");
    return (await usersRepo.listUsers(this.db)).map(toUserView);
  }

  /**
   * With a password the user can sign in at once. Without one, the user gets an unusable
   * password and a pending invitation; `inviteToken` (in this answer only) goes into the link.
   */
  async create(actor: Actor, input: UserInput, now: Date): Promise<{ user: UserView; inviteToken?: string }> {
    requirePermission(actor, "user.manage");
    if (await usersRepo.findUserByEmail(this.db, input.email)) throw duplicateEmail(input.email);
    // Hashing is slow: done before the transaction, which then holds no lock while it runs.
    const passwordHash = input.password === undefined ? unusableHash : await hashPassword(input.password);
    const invite = input.password === undefined ? newInvite(now) : undefined;
    try {
      const row = await this.db.transaction(async (tx) => {
        const created = await usersRepo.insertUserRow(
          tx,
          {
            email: input.email,
            name: input.name,
            role: input.role,
            passwordHash,
            inviteTokenHash: invite?.inviteTokenHash ?? null,
            inviteExpiresAt: invite?.inviteExpiresAt ?? null,
          },
          now,
        );
        await this.audit(tx, actor, "user.created", created, now, {
          email: created.email,
          role: created.role,
          invited: invite !== undefined,
        });
        if (invite) {
          await this.audit(tx, actor, "user.invited", created, now, { expiresAt: invite.inviteExpiresAt.toISOString() });
        }
        return created;
      });
      return invite ? { user: toUserView(row), inviteToken: invite.token } : { user: toUserView(row) };
    } catch (err) {
      if (isDuplicateEmail(err)) throw duplicateEmail(input.email);
      throw err;
    }
  }

  /**
   * A new invitation link for a user who has not set a password yet (the previous link
   * stops working, and an expired one is renewed). A user who already set a password gets
   * CONFLICT: an invitation is not a password reset. Deactivated users are reactivated first.
   */
  async reinvite(actor: Actor, id: string, now: Date): Promise<{ user: UserView; inviteToken: string }> {
    requirePermission(actor, "user.manage");
    const invite = newInvite(now);
    const row = await this.db.transaction(async (tx) => {
      const user = await usersRepo.findUserById(tx, id, true);
      if (!user) throw new DomainError("NOT_FOUND", "No such user");
      if (user.inviteTokenHash === null) {
        throw new DomainError("CONFLICT", `${user.name} has already set a password; an invitation is only for new users`);
      }
      if (!user.active) throw new DomainError("CONFLICT", `${user.name} is deactivated; reactivate them before inviting`);
      const updated = await usersRepo.updateUser(
        tx,
        id,
        { inviteTokenHash: invite.inviteTokenHash, inviteExpiresAt: invite.inviteExpiresAt },
        now,
      );
      await this.audit(tx, actor, "user.invited", updated!, now, {
        expiresAt: invite.inviteExpiresAt.toISOString(),
        renewed: true,
      });
      return updated!;
    });
    return { user: toUserView(row), inviteToken: invite.token };
  }

  /**
   * Public: whoever holds a live invitation link sets the password. It does not sign in;
   * the client signs in with the new password afterwards.
   */
  async acceptInvite(input: AcceptInviteInput, now: Date): Promise<UserView> {
    const inviteTokenHash = hashToken(input.token);
    // Checked before hashing, so garbage tokens cost no scrypt work.
    const pending = await usersRepo.findUserByInviteHash(this.db, inviteTokenHash);
    if (!pending || !pending.active || !pending.inviteExpiresAt || pending.inviteExpiresAt <= now) throw invalidInvite();
    const passwordHash = await hashPassword(input.password);
    const row = await this.db.transaction(async (tx) => {
      const accepted = await usersRepo.acceptInvite(tx, inviteTokenHash, passwordHash, now);
      if (!accepted) throw invalidInvite();
      await this.audit(tx, userActor(accepted), "user.invite_accepted", accepted, now);
      return accepted;
    });
    return toUserView(row);
  }

  /**
   * Role, name, active. Deactivating ends the user's sessions in the transaction and their
   * open sockets right after it; a role change keeps sessions but ends sockets, whose actor
   * carries the old role (the client reconnects with the new one). Unchanged fields write
   * nothing. Nobody may deactivate or demote themselves, and the last active admin stays.
   */
  async update(actor: Actor, id: string, patch: UserPatch, now: Date): Promise<UserView> {
    requirePermission(actor, "user.manage");
    const outcome = await this.db.transaction(async (tx) => {
      // The admins are locked before the target, in every path, so two changes never deadlock.
      const admins = patch.role !== undefined || patch.active === false ? await usersRepo.lockActiveAdmins(tx) : [];
      const user = await usersRepo.findUserById(tx, id, true);
      if (!user) throw new DomainError("NOT_FOUND", "No such user");

      const changes: usersRepo.UserChanges = {};
      if (patch.name !== undefined && patch.name !== user.name) changes.name = patch.name;
      if (patch.role !== undefined && patch.role !== user.role) changes.role = patch.role;
      if (patch.active !== undefined && patch.active !== user.active) changes.active = patch.active;
      if (Object.keys(changes).length === 0) return { row: user, ended: undefined };

      const demoted = changes.role !== undefined && user.role === "admin";
      const deactivated = changes.active === false;
      if (actor.id === user.id && deactivated) {
        throw new DomainError("CONFLICT", "You cannot deactivate yourself; ask another admin");
      }
      if (actor.id === user.id && demoted) {
        throw new DomainError("CONFLICT", "You cannot remove your own admin role; ask another admin");
      }
      if (user.role === "admin" && user.active && (demoted || deactivated) && admins.length <= 1) {
        throw new DomainError(
          "CONFLICT",
          `${user.name} is the last active admin and must stay one: make another user an admin first`,
        );
      }

      const updated = (await usersRepo.updateUser(tx, id, changes, now))!;
      if (changes.name !== undefined) {
        await this.audit(tx, actor, "user.renamed", updated, now, { from: user.name, to: changes.name });
      }
      if (changes.role !== undefined) {
        await this.audit(tx, actor, "user.role_changed", updated, now, { from: user.role, to: changes.role });
      }
      if (changes.active === false) {
        const sessions = await usersRepo.deleteUserSessions(tx, id);
        await this.audit(tx, actor, "user.deactivated", updated, now, { sessionsEnded: sessions });
      }
      if (changes.active === true) await this.audit(tx, actor, "user.reactivated", updated, now);

      const ended: SessionEndReason | undefined = deactivated
        ? "deactivated"
        : changes.role !== undefined && updated.active
          ? "role_changed"
          : undefined;
      return { row: updated, ended };
    });
    if (outcome.ended) this.endSockets(userRoom(id), outcome.ended);
    return toUserView(outcome.row);
  }

  private async audit(
    tx: Executor,
    actor: Actor,
    action: AuditAction,
    user: UserRow,
    at: Date,
    details?: Record<string, unknown>,
  ): Promise<void> {
    await insertAudit(tx, { actor, action, target: auditTarget(user), at, ...(details ? { details } : {}) });
  }
}
