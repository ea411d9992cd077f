/**
 * Small fetch helpers for the HTTP part of the contract. Every failure becomes an
 * ApiError carrying the contract's error code and message.
 */
import type { ErrorCode } from "../../../shared/errors.ts";
import type { Role } from "../../../shared/schemas/common.ts";

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  active: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Reads `{"error":{"code","message","details"?}}`, or makes one up from the status. */
export function toApiError(status: number, body: unknown): ApiError {
  const error = isRecord(body) ? body.error : undefined;
  if (isRecord(error) && typeof error.code === "string" && typeof error.message === "string") {
    return new ApiError(error.code as ErrorCode, error.message, status, error.details);
  }
  if (status === 401) return new ApiError("UNAUTHENTICATED", "Sign in first", status);
  return new ApiError(status >= 500 ? "INTERNAL" : "INVALID_INPUT", `The server answered ${status}`, status);
}

async function request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? { accept: "application/json" } : { "content-type": "application/json", accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError("UNAVAILABLE", "Cannot reach the server", 0);
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!res.ok) throw toApiError(res.status, parsed);
  return parsed as T;
}

/** The signed-in user, or null when there is no valid session. */
export async function fetchMe(): Promise<User | null> {
  try {
    const { user } = await request<{ user: User }>("GET", "/api/me");
    return user;
  } catch (err) {
    if (err instanceof ApiError && err.code === "UNAUTHENTICATED") return null;
    throw err;
  }
}

export async function login(email: string, password: string): Promise<User> {
  const { user } = await request<{ user: User }>("POST", "/api/auth/login", { email, password });
  return user;
}

export async function logout(): Promise<void> {
  await request<undefined>("POST", "/api/auth/logout");
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return "Something went wrong";
}
