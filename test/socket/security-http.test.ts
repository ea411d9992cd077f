import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { count } from "drizzle-orm";
import { io as connectIo } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiKeys, contacts, leads } from "../../drizzle/schema.ts";
import { loadConfig } from "../../server/config.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeUser, testPassword } from "../support/builders.ts";
import { login, startTestServer, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";

interface ErrorJson {
  error: { code: string; message: string };
}

/** A stand-in for the built client: the shell route serves its index.html. */
function fakeClientDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "lpb-shell-"));
  writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>board</title><div id=app></div>");
  return dir;
}

const cspDirectives = (header: string | null) =>
  Object.fromEntries(
    (header ?? "")
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name, values]),
  );

describe.each(drivers)("HTTP hardening on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let clientDir: string;
  let cookie: string;
  let apiKey: string;
  const sockets: TestSocket[] = [];
  const partner = "https://partner.example";

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    clientDir = fakeClientDir();
    server = await startTestServer(t.database, clientDir, {
      deps: { publicIntake: { corsOrigins: [partner], perMinute: 1000 } },
    });
    const admin = await makeUser(server.app.services.auth, "admin");
    cookie = await login(server.url, admin.user.email);
    apiKey = (await server.app.services.apiKeys.create(admin.actor, { name: "Sync", scopes: ["write", "read"] }, new Date())).key;
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await server?.close();
    await t?.close();
    if (clientDir) rmSync(clientDir, { recursive: true, force: true });
  });

  const keyCount = async () => (await t.database.db.select({ n: count() }).from(apiKeys))[0]!.n;
  const rowCounts = async () => ({
    keys: await keyCount(),
    leads: (await t.database.db.select({ n: count() }).from(leads))[0]!.n,
    contacts: (await t.database.db.select({ n: count() }).from(contacts))[0]!.n,
  });
  const createKey = (headers: Record<string, string>) =>
    fetch(`${server.url}/api/api-keys`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ name: "From a page", scopes: ["read"] }),
    });

  it("sends the security headers and a strict CSP on the app shell and on the API", async () => {
    for (const url of [`${server.url}/`, `${server.url}/board/anything`, `${server.url}/api/me`]) {
      const res = await fetch(url, { headers: { cookie } });
      const csp = cspDirectives(res.headers.get("content-security-policy"));
      expect(csp).toMatchObject({
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
      });
      const host = new URL(server.url).host;
      expect(csp["connect-src"]).toEqual(["'self'", `ws://${host}`, `wss://${host}`]);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
      expect(res.headers.get("x-powered-by")).toBeNull();
    }
  });

  it("refuses cookie mutations from another site (Origin, Referer, Sec-Fetch-Site) and creates nothing", async () => {
    const before = await keyCount();
    const refusals: Array<Record<string, string>> = [
      { origin: "https://evil.example" },
      { origin: partner }, // CORS_ORIGINS opens the public intake, not the signed-in API
      { origin: "null" },
      { referer: "https://evil.example/page" },
      { "sec-fetch-site": "cross-site" },
      { "sec-fetch-site": "same-site" },
      { origin: server.url.replace("127.0.0.1", "localhost") },
    ];
    for (const headers of refusals) {
      const res = await createKey({ cookie, ...headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      const body = (await res.json()) as ErrorJson;
      expect(body.error.code).toBe("FORBIDDEN");
      expect(body.error.message).toMatch(/^Cross-site request refused/);
    }
    for (const method of ["PATCH", "DELETE", "PUT"]) {
      const res = await fetch(`${server.url}/api/saved-views/${crypto.randomUUID()}`, {
        method,
        headers: { cookie, origin: "https://evil.example", "content-type": "application/json" },
        body: "{}",
      });
      expect(res.status).toBe(403);
    }
    expect(await keyCount()).toBe(before);
  });

  it("accepts mutations from its own pages, from non-browsers, and with an API key from anywhere", async () => {
    const before = await keyCount();
    expect((await createKey({ cookie, origin: server.url })).status).toBe(201);
    expect((await createKey({ cookie, referer: `${server.url}/admin/keys` })).status).toBe(201);
    expect((await createKey({ cookie, "sec-fetch-site": "same-origin" })).status).toBe(201);
    // No Origin, Referer or Sec-Fetch-Site: not a browser (curl with a cookie), so no other site sent it.
    expect((await createKey({ cookie })).status).toBe(201);
    // TLS ended at a proxy that TRUST_PROXY does not name: the https origin of this very host is still its own.
    expect((await createKey({ cookie, origin: server.url.replace("http:", "https:") })).status).toBe(201);
    expect(await keyCount()).toBe(before + 5);

    const lead = await fetch(`${server.url}/api/contacts`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ email: "bearer@test.example", firstName: "Bea" }),
    });
    expect(lead.status).toBe(201);
  });

  it("refuses a sign-in posted from another site, so no page can sign a visitor into its own account", async () => {
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body: JSON.stringify({ email: "someone@test.example", password: testPassword }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("keeps the public intake open to other sites with CORS", async () => {
    const preflight = await fetch(`${server.url}/api/forms/${crypto.randomUUID()}/submissions`, {
      method: "OPTIONS",
      headers: { origin: partner, "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(partner);
    const admin = await makeUser(server.app.services.auth, "admin");
    const form = await server.app.services.forms.create(admin.actor, { name: "Spring" }, new Date());
    const res = await fetch(`${server.url}/api/forms/${form.id}/submissions`, {
      method: "POST",
      headers: { origin: partner, "content-type": "application/json", cookie },
      body: JSON.stringify({ email: "visitor@partner.example" }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe(partner);
  });

  it("sets the session cookie HttpOnly and SameSite=Lax, not Secure over plain HTTP", async () => {
    const user = await makeUser(server.app.services.auth, "viewer");
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url, "x-forwarded-proto": "https" },
      body: JSON.stringify({ email: user.user.email, password: testPassword }),
    });
    expect(res.status).toBe(200);
    const set = res.headers.get("set-cookie")!;
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Lax/);
    // X-Forwarded-Proto counts only from a trusted proxy (TRUST_PROXY); here none is.
    expect(set).not.toMatch(/Secure/);
  });

  it("answers bodies over the limit, too deep or not an object with the contract's errors, and changes nothing", async () => {
    const before = await rowCounts();
    const post = (url: string, body: string, type = "application/json") =>
      fetch(`${server.url}${url}`, { method: "POST", headers: { cookie, "content-type": type }, body });
    const cases: Array<[Response, number, string]> = [
      [await post("/api/contacts", JSON.stringify({ email: "big@test.example", firstName: "x".repeat(1_100_000) })), 413, "PAYLOAD_TOO_LARGE"],
      [await post("/api/contacts", `${"[".repeat(100_000)}${"]".repeat(100_000)}`), 400, "INVALID_INPUT"],
      [await post("/api/contacts", `{"email":"deep@test.example","firstName":${'{"a":'.repeat(70)}1${"}".repeat(70)}}`), 400, "INVALID_INPUT"],
      [await post("/api/contacts", '"just a string"'), 400, "INVALID_INPUT"],
      [await post("/api/contacts", "{not json"), 400, "INVALID_INPUT"],
      [await post("/api/contacts", JSON.stringify({ email: "x@test.example" }), "application/json; charset=latin-7"), 400, "INVALID_INPUT"],
      // Passes the schema, but PostgreSQL refuses NUL in text: still the caller's mistake, not a 500.
      [await post("/api/contacts", JSON.stringify({ email: "nul@test.example", firstName: "a\u0000b" })), 400, "INVALID_INPUT"],
    ];
    const form = `/api/forms/${crypto.randomUUID()}/submissions`;
    const manyFields = Array.from({ length: 150 }, (_, i) => `f${i}=${i}`).join("&");
    cases.push([await post(form, manyFields, "application/x-www-form-urlencoded"), 413, "PAYLOAD_TOO_LARGE"]);
    cases.push([await post(form, `email=${"a".repeat(70_000)}`, "application/x-www-form-urlencoded"), 413, "PAYLOAD_TOO_LARGE"]);
    for (const [res, status, code] of cases) {
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect({ status: res.status, code: ((await res.json()) as ErrorJson).error.code }).toEqual({ status, code });
    }
    expect(await rowCounts()).toEqual(before);
  });

  it("answers Express's own errors as JSON, never an HTML page", async () => {
    const checks: Array<[string, RequestInit, number, string]> = [
      ["/api/leads/%E0%A4%A", { headers: { cookie } }, 400, "INVALID_INPUT"],
      ["/no/such/page", { method: "POST" }, 404, "NOT_FOUND"],
      ["/api/no-such-endpoint", { method: "DELETE", headers: { cookie } }, 404, "NOT_FOUND"],
    ];
    for (const [url, init, status, code] of checks) {
      const res = await fetch(`${server.url}${url}`, init);
      expect(res.headers.get("content-type"), url).toMatch(/^application\/json/);
      expect({ url, status: res.status, code: ((await res.json()) as ErrorJson).error.code }).toEqual({ url, status, code });
    }
  });

  /** A raw Socket.IO client with chosen handshake headers and auth. */
  function rawSocket(headers: Record<string, string>, auth: Record<string, string> = {}): TestSocket {
    const socket: TestSocket = connectIo(server.url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      extraHeaders: headers,
      auth,
    });
    sockets.push(socket);
    return socket;
  }

  it("refuses cross-site WebSocket handshakes that sign in with the cookie; tokens and same-origin pass", async () => {
    const evil = rawSocket({ cookie, origin: "https://evil.example" });
    const error = await waitForConnect(evil).then(
      () => undefined,
      (err: Error & { data?: { code: string } }) => err,
    );
    expect(error?.message).toBe("FORBIDDEN");
    expect(error?.data?.code).toBe("FORBIDDEN");

    await waitForConnect(rawSocket({ cookie, origin: server.url }));
    await waitForConnect(rawSocket({ cookie }));
    await waitForConnect(rawSocket({ cookie, origin: "https://evil.example" }, { token: apiKey }));
  });
});

describe("behind a trusted proxy (TRUST_PROXY=loopback)", () => {
  let t: TestDatabase;
  let server: TestServer;
  let email: string;
  const publicOrigin = "https://board.example.com";
  const proxied = { "x-forwarded-proto": "https", "x-forwarded-host": "board.example.com" };

  beforeAll(async () => {
    t = await openTestDatabase("pglite");
    server = await startTestServer(t.database, undefined, {
      deps: { security: { trustProxy: ["loopback"] }, publicIntake: { corsOrigins: [], perMinute: 2 } },
    });
    email = (await makeUser(server.app.services.auth, "admin")).user.email;
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const signIn = (headers: Record<string, string>) =>
    fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ email, password: testPassword }),
    });

  it("takes the public origin and HTTPS from the proxy: Secure cookies, same-origin checks pass", async () => {
    const res = await signIn({ ...proxied, origin: publicOrigin });
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/; Secure/);
    // The internal address is not the public site.
    expect((await signIn({ ...proxied, origin: server.url })).status).toBe(403);
  });

  it("counts public submissions per forwarded client address", async () => {
    const submit = (client: string) =>
      fetch(`${server.url}/api/forms/${crypto.randomUUID()}/submissions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": client },
        body: JSON.stringify({ email: "x@y.example" }),
      });
    expect([(await submit("203.0.113.7")).status, (await submit("203.0.113.7")).status]).toEqual([404, 404]);
    expect((await submit("203.0.113.7")).status).toBe(429);
    expect((await submit("203.0.113.8")).status).toBe(404);
    // IPv6 clients count per /64: another address of the same network shares the limit.
    expect([(await submit("2001:db8:1:2::1")).status, (await submit("2001:db8:1:2::2")).status]).toEqual([404, 404]);
    expect((await submit("2001:db8:1:2:ffff::9")).status).toBe(429);
  });
});

describe("without trust proxy, forwarded headers are ignored", () => {
  it("neither a spoofed X-Forwarded-For escapes the limit nor X-Forwarded-Host makes another origin its own", async () => {
    const t = await openTestDatabase("pglite");
    const server = await startTestServer(t.database, undefined, { deps: { publicIntake: { corsOrigins: [], perMinute: 1 } } });
    try {
      const statuses: number[] = [];
      for (const client of ["198.51.100.1", "198.51.100.2"]) {
        const res = await fetch(`${server.url}/api/forms/${crypto.randomUUID()}/submissions`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": client },
          body: JSON.stringify({ email: "x@y.example" }),
        });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([404, 429]);
      const res = await fetch(`${server.url}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://evil.example", "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" },
        body: JSON.stringify({ email: "a@b.example", password: "whatever-password" }),
      });
      expect(res.status).toBe(403);
    } finally {
      await server.close();
      await t.close();
    }
  });
});

describe("security configuration", () => {
  it("reads TRUST_PROXY, the session idle time, the socket rate and the sign-in limits, with defaults", () => {
    expect(loadConfig({}).security).toEqual({
      trustProxy: false,
      sessionIdleMinutes: 720,
      commandRate: { perSecond: 50, burst: 200 },
      login: { failuresPerAccount: 5, failuresPerAddress: 20, maxLockoutMs: 15 * 60_000 },
    });
    const trust = (v: string) => loadConfig({ TRUST_PROXY: v }).security.trustProxy;
    expect(trust("true")).toBe(true);
    expect(trust("false")).toBe(false);
    expect(trust("2")).toBe(2);
    expect(trust("loopback, 10.0.0.0/8,fd00::/8 ,192.168.1.7")).toEqual(["loopback", "10.0.0.0/8", "fd00::/8", "192.168.1.7"]);
    const custom = loadConfig({ SESSION_IDLE_MINUTES: "30", SOCKET_COMMANDS_PER_SECOND: "5", SOCKET_COMMAND_BURST: "9" });
    expect(custom.security).toMatchObject({ sessionIdleMinutes: 30, commandRate: { perSecond: 5, burst: 9 } });
  });

  it.each([
    [{ TRUST_PROXY: "proxy.internal" }, /^Invalid configuration: TRUST_PROXY: .*"proxy.internal"/],
    [{ TRUST_PROXY: "10.0.0.0/33" }, /TRUST_PROXY/],
    [{ SESSION_IDLE_MINUTES: "0" }, /SESSION_IDLE_MINUTES/],
    [{ SOCKET_COMMAND_BURST: "many" }, /SOCKET_COMMAND_BURST/],
    [{ BOOTSTRAP_ADMIN_EMAIL: "a@b.example", BOOTSTRAP_ADMIN_PASSWORD: "short-pw" }, /BOOTSTRAP_ADMIN_PASSWORD: must be at least 10 characters/],
  ])("refuses %j with a one-line message", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
