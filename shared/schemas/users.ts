import { z } from "zod";
import { role, type Role } from "./common.ts";

/** New passwords: long enough to resist guessing; login itself accepts any length up to the cap. */
export const minPasswordLength = 10;
export const password = z
  .string()
  .min(minPasswordLength, `must be at least ${minPasswordLength} characters`)
  .max(1024, "must be at most 1024 characters");

const email = z.string().trim().toLowerCase().pipe(z.email({ message: "must be an email address" }).max(320));
const name = z.string().trim().min(1, "is required").max(200, "must be at most 200 characters");

/**
 * `POST /api/users`: with a password the user can sign in at once; without one the answer
 * carries a one-time invitation link (`inviteUrl`) for the user to choose their own.
 */
export const userInput = z.strictObject({ email, name, role, password: password.optional() });
export type UserInput = z.infer<typeof userInput>;

/** `PATCH /api/users/:id`. Deactivating ends the user's sessions and open sockets at once. */
export const userPatch = z
  .strictObject({ role: role.optional(), active: z.boolean().optional(), name: name.optional() })
  .refine((p) => Object.keys(p).length > 0, { message: "must change something (role, active or name)" });
export type UserPatch = z.infer<typeof userPatch>;

/** `POST /api/auth/accept-invite`: sets the password and signs in. */
export const acceptInviteInput = z.strictObject({
  token: z.string().min(10).max(200),
  password,
});
export type AcceptInviteInput = z.infer<typeof acceptInviteInput>;

/** A user as the admin pages see it (never the password hash). */
export interface UserView {
  id: string;
  email: string;
  name: string;
  role: Role;
  active: boolean;
  /** Invited and not yet accepted. */
  invitePending: boolean;
  createdAt: string;
}

export interface UserCreated {
  user: UserView;
  /** Only when invited (no password given): shown once, valid for 7 days. */
  inviteUrl?: string;
}
