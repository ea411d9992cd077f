import { routeAccess, type RouteAccess } from "../../server/http/guard.ts";
import { adminRouteFixtures } from "./route-fixtures-admin.ts";
import { leadRouteFixtures } from "./route-fixtures-leads.ts";
import { recordRouteFixtures } from "./route-fixtures-records.ts";
import { authHeaders, type Credentials, type MatrixPrincipal } from "./matrix-principals.ts";
import type { MatrixContext } from "./matrix-world.ts";

/**
 * One fixture per row of the route table (server/http/guard.ts routeAccess): how to build
 * a fresh, valid request of that route for any principal. The permission matrix test sends
 * it as every principal; the fuzz test mutates it. A row without a fixture, or a fixture
 * without a row, fails both tests by name.
 */
export interface HttpRequestSpec {
  /** Values of the path's `:params`. */
  params?: Record<string, string>;
  query?: Record<string, string>;
  /** A JSON body. */
  body?: unknown;
  /** A body of another type (a CSV upload). */
  raw?: { contentType: string; text: string };
  headers?: Record<string, string>;
  /** Other credentials than the principal's own: logout must not end the session other cells use. */
  credentials?: Credentials;
}

/** An outcome other than success that an allowed principal gets by a rule beyond the matrix. */
export interface Documented {
  status: number;
  code: string;
  why: string;
}

export interface RouteFixture {
  /** A fresh valid request of this route for this principal (may create what it consumes first). */
  prepare(ctx: MatrixContext, who: MatrixPrincipal): Promise<HttpRequestSpec>;
  documented?(who: MatrixPrincipal): Documented | undefined;
  /** Waits for work the call started in the background (an import), so later fingerprints hold still. */
  settle?(ctx: MatrixContext, body: unknown): Promise<void>;
}

export const routeFixtures: Record<string, RouteFixture> = {
  ...adminRouteFixtures,
  ...leadRouteFixtures,
  ...recordRouteFixtures,
};

export type RouteKey = keyof typeof routeAccess;
export const routeKeys = Object.keys(routeAccess) as RouteKey[];

export function accessOf(key: string): RouteAccess {
  return (routeAccess as Record<string, RouteAccess>)[key]!;
}

/** Rows of the table without a fixture, and fixtures without a row: both must be empty. */
export function fixtureCoverage(): { rowsWithoutFixture: string[]; fixturesWithoutRow: string[] } {
  const fixtures = Object.keys(routeFixtures);
  return {
    rowsWithoutFixture: routeKeys.filter((k) => !fixtures.includes(k)),
    fixturesWithoutRow: fixtures.filter((k) => !(k in routeAccess)),
  };
}

export function splitKey(key: string): { method: string; pattern: string } {
  const [method, pattern] = key.split(" ") as [string, string];
  return { method, pattern };
}

/** The route's path with its params filled in (each value as given: a fuzzer may pass raw bytes). */
export function fillPath(pattern: string, params: Record<string, string> = {}, encode = true): string {
  return pattern.replace(/:(\w+)/g, (_m, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${pattern}`);
    return encode ? encodeURIComponent(value) : value;
  });
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
}

/** Sends one request of a route as a principal (or with the spec's own credentials). */
export async function sendRoute(ctx: MatrixContext, key: string, spec: HttpRequestSpec, who: MatrixPrincipal): Promise<HttpAnswer> {
  const { method, pattern } = splitKey(key);
  const query = spec.query && Object.keys(spec.query).length > 0 ? `?${new URLSearchParams(spec.query)}` : "";
  const headers: Record<string, string> = { ...authHeaders(spec.credentials ?? who.credentials), ...spec.headers };
  let body: string | undefined;
  if (spec.raw) {
    headers["content-type"] = spec.raw.contentType;
    body = spec.raw.text;
  } else if (spec.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(spec.body);
  }
  const res = await fetch(`${ctx.server.url}${fillPath(pattern, spec.params)}${query}`, { method, headers, body });
  return readAnswer(res);
}

export async function readAnswer(res: Response): Promise<HttpAnswer> {
  const text = await res.text();
  const contentType = res.headers.get("content-type") ?? "";
  let json: unknown;
  if (contentType.includes("json") && text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, contentType, text, json };
}

/** The contract's error object of an answer, if it is one. */
export function errorOf(answer: HttpAnswer): { code: string; message: string } | undefined {
  const error = (answer.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return error && typeof error.code === "string" && typeof error.message === "string"
    ? { code: error.code, message: error.message }
    : undefined;
}
