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

type Method = "GET" | "POST" | "PATCH" | "DELETE";

interface RawBody {
  body: Blob | string;
  contentType: string;
}

async function send(method: Method, path: string, body?: unknown, raw?: RawBody): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  let payload: BodyInit | undefined;
  if (raw) {
    headers["content-type"] = raw.contentType;
    payload = raw.body;
  } else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  try {
    return await fetch(path, { method, credentials: "same-origin", headers, body: payload });
  } catch {
    throw new ApiError("UNAVAILABLE", "Cannot reach the server", 0);
  }
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function request<T>(method: Method, path: string, body?: unknown, raw?: RawBody): Promise<T> {
  const res = await send(method, path, body, raw);
  const parsed = parseJson(await res.text());
  if (!res.ok) throw toApiError(res.status, parsed);
  return parsed as T;
}

/** `?a=1&b=x`, leaving out empty values; "" when nothing is left. */
export function queryString(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const apiGet = <T>(path: string): Promise<T> => request<T>("GET", path);
export const apiPost = <T>(path: string, body?: unknown): Promise<T> => request<T>("POST", path, body);
export const apiPatch = <T>(path: string, body: unknown): Promise<T> => request<T>("PATCH", path, body);
export const apiDelete = (path: string): Promise<void> => request<void>("DELETE", path);

/** A raw body (e.g. a CSV file) with its own content type; the answer is JSON. */
export const apiUpload = <T>(path: string, body: Blob | string, contentType: string): Promise<T> =>
  request<T>("POST", path, undefined, { body, contentType });

/** An endpoint that answers text (e.g. a form's HTML snippet). */
export async function apiText(path: string): Promise<string> {
  const res = await send("GET", path);
  const text = await res.text();
  if (!res.ok) throw toApiError(res.status, parseJson(text));
  return text;
}

export interface FieldProblem {
  field: string;
  message: string;
}

/** The per-field problems of an INVALID_INPUT answer (`details: [{field, message}]`). */
export function fieldProblems(err: unknown): FieldProblem[] {
  if (!(err instanceof ApiError) || !Array.isArray(err.details)) return [];
  return err.details.filter(
    (d): d is FieldProblem => isRecord(d) && typeof d.field === "string" && typeof d.message === "string",
  );
}

/** The message with each field problem appended, for places that show one line. */
export function fullMessage(err: unknown): string {
  const problems = fieldProblems(err);
  const base = errorMessage(err);
  return problems.length ? `${base}: ${problems.map((p) => `${p.field} ${p.message}`).join("; ")}` : base;
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
