/**
 * Protections at the edge of the server (docs/security.md): security headers and the
 * Content-Security-Policy, the same-origin rule for cookie-authenticated mutations (HTTP)
 * and handshakes (Socket.IO), JSON body limits, and socket activity keeping sessions alive.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import express, { type Request, type RequestHandler } from "express";
import helmet from "helmet";
import type { Logger } from "pino";
import { sessionCookieName } from "../services/auth-service.ts";
import type { CommandRate } from "../socket/commands.ts";
import { readCookie } from "./cookies.ts";
import { sendError } from "./errors.ts";
import type { LoginLimits } from "./login-limiter.ts";

/** The security settings createApp takes (SecurityConfig from the environment fits); omitted ones keep their defaults. */
export interface SecurityOptions {
  /** Express's `trust proxy`: false, true, a hop count, or the proxies' addresses/CIDR ranges. */
  trustProxy?: boolean | number | string[];
  /** A session unused this long ends; default 720. */
  sessionIdleMinutes?: number;
  /** Socket commands per connection; default 50 a second with bursts of 200. */
  commandRate?: CommandRate;
  /** Sign-in lockouts per account and address. */
  login?: Partial<LoginLimits>;
}

/** Express's compiled `trust proxy` setting: is the hop at `address` (`i` hops from us) a trusted proxy? */
export type TrustFn = (address: string, i: number) => boolean;

// A Host header is a hostname or bracketed IPv6 address and an optional port, nothing else.
const hostPattern = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

const firstValue = (value: string | string[] | undefined): string | undefined => {
  const v = Array.isArray(value) ? value[0] : value;
  const first = v?.split(",")[0]?.trim();
  return first ? first : undefined;
};

/** `scheme://host[:port]` of an Origin or Referer value; undefined for "null", garbage and non-web schemes. */
export function originOf(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? new URL(url.origin) : undefined;
  } catch {
    return undefined;
  }
}

/** This server's own origin as the request names it: `req.protocol` and `req.host` honour `trust proxy`. */
export function requestOrigin(req: Pick<Request, "protocol" | "host">): URL | undefined {
  const host = req.host;
  return host && hostPattern.test(host) ? originOf(`${req.protocol}://${host}`) : undefined;
}

/** The same for a Socket.IO handshake's request, which Express never saw: its rules, applied by hand. */
export function handshakeOrigin(request: IncomingMessage, trust: TrustFn): URL | undefined {
  const trusted = trust(request.socket?.remoteAddress ?? "", 0);
  const encrypted = (request.socket as TLSSocket | undefined)?.encrypted === true;
  const protocol = (trusted && firstValue(request.headers["x-forwarded-proto"])) || (encrypted ? "https" : "http");
  const host = (trusted && firstValue(request.headers["x-forwarded-host"])) || request.headers.host;
  return host && hostPattern.test(host) ? originOf(`${protocol}://${host}`) : undefined;
}

/**
 * Whether a browser's `origin` is this server. Exactly the same origin, or the same host
 * and port reached over https while this server sees plain http: TLS ended at a proxy
 * that `TRUST_PROXY` does not name yet. Only the site itself can be https://<its host>.
 */
export function isOwnOrigin(origin: URL, own: URL): boolean {
  if (origin.origin === own.origin) return true;
  return origin.protocol === "https:" && own.protocol === "http:" && origin.host === own.host;
}

export type RequestSite = "same-origin" | "cross-origin" | "not-a-browser";

/**
 * Where a request comes from, by what browsers say: `Origin` (every browser sends it on
 * POST/PUT/PATCH/DELETE and on WebSocket handshakes), else `Referer`, else `Sec-Fetch-Site`.
 * None of them: not a browser (curl, scripts, server-to-server), which no other site can
 * make a victim's browser send.
 */
export function requestSite(headers: IncomingHttpHeaders, own: URL | undefined): RequestSite {
  const claimed = headers.origin ?? headers.referer;
  if (claimed !== undefined) {
    const origin = originOf(claimed);
    return origin && own && isOwnOrigin(origin, own) ? "same-origin" : "cross-origin";
  }
  const site = firstValue(headers["sec-fetch-site"]);
  if (site !== undefined) return site === "same-origin" || site === "none" ? "same-origin" : "cross-origin";
  return "not-a-browser";
}

const unsafeMethods = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const bearerScheme = /^Bearer(?:[ \t]|$)/i;

/** Logs refusals at most once a minute: the operator learns of a misconfigured proxy, an attacker cannot flood the log. */
function throttledWarn(logger: Logger): (fields: Record<string, unknown>, message: string) => void {
  let last = 0;
  return (fields, message) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    logger.warn(fields, message);
  };
}

/**
 * CSRF: a POST/PUT/PATCH/DELETE under /api must come from this server's own pages. A
 * cookie rides along on any request a browser makes, so an Origin (or Referer) naming
 * another site is refused, whatever CORS_ORIGINS says (CORS is for the public intake,
 * which is mounted before this and exempt). API-key requests are exempt: a browser cannot
 * attach an Authorization header cross-site without a preflight this server never grants.
 */
export function sameOriginMutations(logger: Logger): RequestHandler {
  const warn = throttledWarn(logger);
  return (req, res, next) => {
    if (!unsafeMethods.has(req.method) || bearerScheme.test(req.headers.authorization ?? "")) return next();
    const own = requestOrigin(req);
    if (requestSite(req.headers, own) !== "cross-origin") return next();
    const from = req.headers.origin ?? req.headers.referer ?? `Sec-Fetch-Site: ${String(req.headers["sec-fetch-site"])}`;
    warn(
      { from, own: own?.origin, path: req.path },
      "refused a cross-site request; if this is the board's own address, check TRUST_PROXY and that the proxy forwards Host",
    );
    sendError(res, {
      code: "FORBIDDEN",
      message: `Cross-site request refused: it came from ${from}, not from this board (${own?.origin ?? "unknown address"})`,
    });
  };
}

/** The part of a Socket.IO socket the handshake check reads. */
interface HandshakeSocket {
  handshake: { auth: unknown };
  request: IncomingMessage;
}

/**
 * Cross-site WebSocket hijacking: a page on another site may open a WebSocket to this
 * server, and the browser sends the session cookie with it. A handshake that would sign in
 * with the cookie (no API key, no display token) must come from this server's own pages.
 */
export function socketOriginCheck(trust: () => TrustFn, logger: Logger) {
  const warn = throttledWarn(logger);
  return (socket: HandshakeSocket, next: (err?: Error) => void): void => {
    const auth = (socket.handshake.auth ?? {}) as { token?: unknown; displayToken?: unknown };
    const presentsToken = (typeof auth.displayToken === "string" && auth.displayToken !== "") ||
      (typeof auth.token === "string" && auth.token !== "");
    const headers = socket.request.headers;
    if (presentsToken || !readCookie(headers.cookie, sessionCookieName)) return next();
    const own = handshakeOrigin(socket.request, trust());
    if (requestSite(headers, own) !== "cross-origin") return next();
    warn({ from: headers.origin, own: own?.origin }, "refused a cross-site socket handshake with a session cookie");
    const data = { code: "FORBIDDEN", message: "Cross-site connection refused: open the board from its own address" };
    next(Object.assign(new Error("FORBIDDEN"), { data }));
  };
}

/** Socket.IO's side of a session: who the socket is, once the board's handshake identified it. */
interface SessionSocket {
  data: { actor?: { sessionId?: string } };
  use(fn: (packet: unknown[], next: (err?: Error) => void) => void): unknown;
}

/**
 * Commands on an open socket are activity: they keep the session from idling out (written
 * at most once a minute). A session found gone or expired ends its sockets at once.
 */
export function socketSessionActivity(options: {
  touch: (sessionId: string) => Promise<boolean>;
  onExpired: (sessionId: string) => void;
  logger: Logger;
}): (socket: SessionSocket) => void {
  return (socket) => {
    socket.use((_packet, next) => {
      const sessionId = socket.data.actor?.sessionId;
      if (sessionId) {
        options.touch(sessionId).then(
          (alive) => alive || options.onExpired(sessionId),
          (err: unknown) => options.logger.warn({ err }, "could not record a session's activity"),
        );
      }
      next();
    });
  };
}

/** Deeper JSON than any schema of the API has; deeper bodies are refused before they reach code that recurses. */
export const maxJsonDepth = 64;

/** Nesting depth of a parsed JSON value, walked without recursion (JSON.parse itself copes with any depth). */
export function jsonDepthExceeds(value: unknown, max: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

/**
 * JSON bodies for the API: at most `limit` (413 PAYLOAD_TOO_LARGE past it), an object or
 * an array at the top (strict), at most `maxJsonDepth` levels deep (400 INVALID_INPUT).
 */
export function jsonBody(limit = "1mb"): RequestHandler[] {
  return [
    express.json({ limit, strict: true }),
    (req, res, next) => {
      if (!jsonDepthExceeds(req.body, maxJsonDepth)) return next();
      sendError(res, { code: "INVALID_INPUT", message: `The body is nested too deeply (at most ${maxJsonDepth} levels)` });
    },
  ];
}

/** `ws:`/`wss:` of the host the page was loaded from, for connect-src (older browsers' 'self' leaves WebSockets out). */
function sameHostSockets(req: IncomingMessage): string {
  const host = (req as Request).host;
  return host && hostPattern.test(host) ? `ws://${host} wss://${host}` : "";
}

/**
 * Helmet's headers with a strict Content-Security-Policy that the built client satisfies:
 * scripts and styles only from this origin (the client has no inline script; Svelte's
 * `style:` directives set styles through the CSSOM, which CSP does not govern), nothing
 * framed, no plugins, no <base>. Referrer-Policy same-origin keeps /wall/<token> URLs
 * from leaking to other sites while same-origin requests still carry their Origin.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "script-src-attr": ["'none'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", sameHostSockets],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
      },
    },
    crossOriginOpenerPolicy: { policy: "same-origin" },
    crossOriginResourcePolicy: { policy: "same-origin" },
    referrerPolicy: { policy: "same-origin" },
    xFrameOptions: { action: "deny" },
  });
}
