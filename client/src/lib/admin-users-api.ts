/**
 * Users and invitations over HTTP: `GET/POST /api/users`, `PATCH /api/users/:id`,
 * `POST /api/users/:id/invite` (admin) and `POST /api/auth/accept-invite` (public).
 * Request bodies follow shared/schemas/users.ts; failures are ApiErrors.
 */
import type { UserCreated, UserInput, UserPatch, UserView } from "../../../shared/schemas/users.ts";
import { apiGet, apiPatch, apiPost } from "./api.ts";

export type { UserCreated, UserInput, UserPatch, UserView };

const one = (id: string, rest = "") => `/api/users/${encodeURIComponent(id)}${rest}`;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** A list answer: either the array itself or an object holding it under `key` (e.g. `{users: [...]}`). */
export function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const inner = isRecord(body) ? body[key] : undefined;
  return Array.isArray(inner) ? (inner as T[]) : [];
}

/** An answer about one record: either the record itself or an object holding it under `key`. */
export function oneOf<T>(body: unknown, key: string): T | null {
  if (!isRecord(body)) return null;
  const inner = body[key];
  return (isRecord(inner) ? inner : body) as T;
}

/** Absolute, so it can be pasted into a message to someone else. */
export function absoluteUrl(url: string): string {
  try {
    return new URL(url, location.origin).href;
  } catch {
    return url;
  }
}

export const listUsers = async (): Promise<UserView[]> => listOf<UserView>(await apiGet<unknown>("/api/users"), "users");

/** With a password the user may sign in at once; without one the answer carries a one-time `inviteUrl`. */
export const createUser = (input: UserInput): Promise<UserCreated> => apiPost<UserCreated>("/api/users", input);

export const updateUser = async (id: string, patch: UserPatch): Promise<UserView | null> =>
  oneOf<UserView>(await apiPatch<unknown>(one(id), patch), "user");

/** A new invitation link for a user who has not accepted yet (the previous one stops working). */
export async function reinviteUser(id: string): Promise<string | null> {
  const body = await apiPost<unknown>(one(id, "/invite"));
  return isRecord(body) && typeof body.inviteUrl === "string" ? body.inviteUrl : null;
}

/** Sets the invited user's password; answers the email to sign in with (when the server names it). */
export async function acceptInvite(token: string, password: string): Promise<string | null> {
  const body = await apiPost<unknown>("/api/auth/accept-invite", { token, password });
  if (!isRecord(body)) return null;
  const user = isRecord(body.user) ? body.user : body;
  return typeof user.email === "string" ? user.email : null;
}
