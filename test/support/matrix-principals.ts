import { io as connect } from "socket.io-client";
import { principalCan, type Action, type Principal as PermissionPrincipal } from "../../shared/domain/permissions.ts";
import type { ApiKeyScope } from "../../shared/schemas/api-keys.ts";
import type { Role } from "../../shared/schemas/common.ts";
import type { RouteAccess } from "../../server/http/guard.ts";
import type { Actor } from "../../server/services/actor.ts";
import { makeUser } from "./builders.ts";
import { login, type TestServer, type TestSocket } from "./server.ts";

/**
 * Everyone the permission matrix drives: a person of each role (signed in with a cookie),
 * an API key of each scope, a wall display, and nobody at all.
 */
export const principalNames = [
  "admin",
  "marketer",
  "telemarketer",
  "sales_manager",
  "salesperson",
  "viewer",
  "key:read",
  "key:write",
  "key:ingest",
  "display",
  "anonymous",
] as const;
export type PrincipalName = (typeof principalNames)[number];

export type PrincipalSpec =
  | { name: PrincipalName; kind: "user"; role: Role }
  | { name: PrincipalName; kind: "api"; scope: ApiKeyScope }
  | { name: PrincipalName; kind: "display" }
  | { name: PrincipalName; kind: "anonymous" };

export function principalSpec(name: PrincipalName): PrincipalSpec {
  if (name === "anonymous") return { name, kind: "anonymous" };
  if (name === "display") return { name, kind: "display" };
  if (name.startsWith("key:")) return { name, kind: "api", scope: name.slice(4) as ApiKeyScope };
  return { name, kind: "user", role: name as Role };
}

/** The principal as the permission matrix sees it (anonymous has none). */
export function asPermissionPrincipal(spec: PrincipalSpec): PermissionPrincipal | undefined {
  switch (spec.kind) {
    case "user":
      return { kind: "user", role: spec.role };
    case "api":
      return { kind: "api", role: "viewer", scopes: [spec.scope] };
    case "display":
      return { kind: "display", role: "viewer" };
    case "anonymous":
      return undefined;
  }
}

export function principalMay(spec: PrincipalSpec, action: Action): boolean {
  const p = asPermissionPrincipal(spec);
  return p !== undefined && principalCan(p, action);
}

export type Expectation = "allowed" | "forbidden" | "unauthenticated";

/**
 * What an HTTP route row promises a principal. A display token authenticates only the
 * wall's socket: over HTTP a display has no credential at all (the wall page calls no API),
 * so it is refused like anonymous on every row that is not public.
 */
export function expectedHttp(spec: PrincipalSpec, access: RouteAccess): Expectation {
  if (access === "public") return "allowed";
  if (spec.kind === "anonymous" || spec.kind === "display") return "unauthenticated";
  if (access === "signed_in") return "allowed";
  return principalMay(spec, access) ? "allowed" : "forbidden";
}

/** What a socket command promises: anonymous never gets a connection at all. */
export function expectedSocket(spec: PrincipalSpec, action: Action): Expectation {
  if (spec.kind === "anonymous") return "unauthenticated";
  return principalMay(spec, action) ? "allowed" : "forbidden";
}

/** How a principal presents itself; `missing` says why it could not be made (a feature not there yet). */
export interface Credentials {
  cookie?: string;
  bearer?: string;
  displayToken?: string;
  missing?: string;
}

export interface MatrixPrincipal {
  spec: PrincipalSpec;
  credentials: Credentials;
  /** The person's user id (people only). */
  userId: string | null;
  /** The service-level actor of a person, for builders that act as them. */
  actor: Actor | null;
}

export type Principals = Record<PrincipalName, MatrixPrincipal>;

/** Signs in a person of every role, issues a key per scope and a display token for the default board. */
export async function createPrincipals(server: TestServer, defaultProcessId: string): Promise<Principals> {
  const auth = server.app.services.auth;
  const out: Partial<Principals> = {};
  let adminCookie = "";
  let adminActor: Actor | undefined;
  for (const name of principalNames) {
    const spec = principalSpec(name);
    if (spec.kind !== "user") continue;
    const person = await makeUser(auth, spec.role, `Matrix ${spec.role}`);
    const cookie = await login(server.url, person.user.email);
    if (spec.role === "admin") {
      adminCookie = cookie;
      adminActor = person.actor;
    }
    out[name] = { spec, credentials: { cookie }, userId: person.user.id, actor: person.actor };
  }
  for (const scope of ["read", "write", "ingest"] as const) {
    const { key } = await server.app.services.apiKeys.create(adminActor!, { name: `Matrix ${scope}`, scopes: [scope] }, new Date());
    const name = `key:${scope}` as const;
    out[name] = { spec: principalSpec(name), credentials: { bearer: key }, userId: null, actor: null };
  }
  out.display = { spec: principalSpec("display"), credentials: await displayCredentials(server, adminCookie, defaultProcessId), userId: null, actor: null };
  out.anonymous = { spec: principalSpec("anonymous"), credentials: {}, userId: null, actor: null };
  return out as Principals;
}

async function displayCredentials(server: TestServer, adminCookie: string, processId: string): Promise<Credentials> {
  const res = await fetch(`${server.url}/api/display-tokens`, {
    method: "POST",
    headers: { cookie: adminCookie, "content-type": "application/json" },
    body: JSON.stringify({ name: "Matrix wall", screens: [{ processId, view: "all" }] }),
  });
  const text = await res.text();
  if (res.status !== 201) return { missing: `POST /api/display-tokens answered ${res.status} ${text.slice(0, 200)}` };
  return { displayToken: (JSON.parse(text) as { token: string }).token };
}

/** HTTP headers for a principal. A display has none: its token opens the wall's socket only. */
export function authHeaders(credentials: Credentials): Record<string, string> {
  const headers: Record<string, string> = {};
  if (credentials.cookie) headers.cookie = credentials.cookie;
  if (credentials.bearer) headers.authorization = `Bearer ${credentials.bearer}`;
  return headers;
}

/** A socket.io-client connection as the principal (cookie, `auth.token` or `auth.displayToken`), not yet connected. */
export function socketFor(server: TestServer, credentials: Credentials): TestSocket {
  const auth: Record<string, string> = {};
  if (credentials.bearer) auth.token = credentials.bearer;
  if (credentials.displayToken) auth.displayToken = credentials.displayToken;
  return connect(server.url, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    auth,
    extraHeaders: credentials.cookie ? { cookie: credentials.cookie } : {},
  });
}

/** Connects, or answers the handshake's refusal (`connect_error` data) instead. */
export function connectOrRefusal(socket: TestSocket): Promise<{ connected: true } | { connected: false; code: string | undefined }> {
  return new Promise((resolve) => {
    socket.once("connect", () => resolve({ connected: true }));
    socket.once("connect_error", (err) => resolve({ connected: false, code: (err as { data?: { code?: string } }).data?.code }));
  });
}
