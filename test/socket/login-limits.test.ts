import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sessions } from "../../drizzle/schema.ts";
import type { SessionEndReason } from "../../shared/events.ts";
import { LoginLimiter } from "../../server/http/login-limiter.ts";
import { sessionIdOf } from "../../server/services/auth-service.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeUser, testPassword } from "../support/builders.ts";
import { connectSocket, request, startTestServer, until, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";

interface ErrorJson {
  error: { code: string; message: string; details?: { retryAfterMs?: number } };
}

const minute = 60_000;

describe("LoginLimiter", () => {
  it("doubles the lockout past the free failures, up to the cap, then forgets after an hour of quiet", () => {
    const limiter = new LoginLimiter({ failuresPerAccount: 5, failuresPerAddress: 1000, maxLockoutMs: 15 * minute });
    const attempt = { email: "Pat@Example.com", ip: "192.0.2.1" };
    let now = 0;
    const locks: number[] = [];
    for (let i = 0; i < 16; i++) {
      now += limiter.waitMs(attempt, now);
      limiter.recordFailure(attempt, now);
      locks.push(limiter.waitMs(attempt, now));
    }
    expect(locks).toEqual([0, 0, 0, 0, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 900_000, 900_000]);
    // The account is the email however it is typed.
    expect(limiter.waitMs({ email: " pat@example.COM ", ip: "192.0.2.99" }, now)).toBe(900_000);
    expect(() => limiter.admit({ email: "pat@example.com", ip: "192.0.2.99" }, now)).toThrow(/try again in 15 minutes/);
    expect(limiter.waitMs(attempt, now + 60 * minute)).toBe(0);
  });

  it("counts an address across accounts, IPv6 per /64, and a success clears only the account", () => {
    const limiter = new LoginLimiter({ failuresPerAccount: 100, failuresPerAddress: 3 });
    for (const [i, ip] of ["2001:db8::1", "2001:db8:0:0:ffff::2", "::ffff:192.0.2.1"].entries()) {
      limiter.recordFailure({ email: `user${i}@example.com`, ip }, 0);
    }
    expect(limiter.waitMs({ email: "new@example.com", ip: "2001:db8::abcd" }, 0)).toBe(0);
    limiter.recordFailure({ email: "user3@example.com", ip: "2001:db8::3" }, 0);
    expect(limiter.waitMs({ email: "new@example.com", ip: "2001:db8::abcd" }, 0)).toBe(1000);
    expect(limiter.waitMs({ email: "new@example.com", ip: "2001:db8:0:1::1" }, 0)).toBe(0);
    limiter.recordSuccess({ email: "user3@example.com", ip: "2001:db8::3" });
    expect(limiter.waitMs({ email: "new@example.com", ip: "2001:db8::abcd" }, 0)).toBe(1000);
  });

  it("keeps at most maxEntries counters, dropping the oldest", () => {
    const limiter = new LoginLimiter({ failuresPerAccount: 1, failuresPerAddress: 1000, maxEntries: 4 });
    for (let i = 0; i < 5; i++) limiter.recordFailure({ email: `u${i}@example.com`, ip: "192.0.2.1" }, i);
    expect(limiter.waitMs({ email: "u0@example.com", ip: "192.0.2.2" }, 5)).toBe(0);
    expect(limiter.waitMs({ email: "u4@example.com", ip: "192.0.2.2" }, 5)).toBeGreaterThan(0);
  });
});

describe.each(drivers)("sign-in limits and sessions on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let clock = Date.parse("2030-01-01T08:00:00Z");
  let email: string;
  let address = 0;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database, undefined, {
      deps: {
        now: () => new Date(clock),
        security: { trustProxy: ["loopback"], sessionIdleMinutes: 720, login: { failuresPerAccount: 3, failuresPerAddress: 8 } },
      },
    });
    const user = await makeUser(server.app.services.auth, "admin");
    email = user.user.email;
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  /** A fresh client address per test, so address counters never leak between tests. */
  const newAddress = () => `198.51.100.${++address}`;

  const signIn = async (who: string, password: string, ip: string, cookie?: string) => {
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": ip, ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ email: who, password }),
    });
    const setCookie = res.headers.get("set-cookie");
    return {
      status: res.status,
      retryAfter: res.headers.get("retry-after"),
      body: (await res.json()) as ErrorJson & { user?: { id: string } },
      cookie: setCookie ? setCookie.split(";")[0]! : undefined,
    };
  };
  const me = async (cookie: string) => (await fetch(`${server.url}/api/me`, { headers: { cookie } })).status;
  const sessionRow = async (cookie: string) =>
    (await t.database.db.select().from(sessions).where(eq(sessions.tokenHash, sessionIdOf(cookie.split("=")[1]!))))[0];

  it("locks an account out with a doubling wait after repeated failures, the same way for unknown emails", async () => {
    const sequence = async (who: string) => {
      const ip = newAddress();
      const seen: Array<[number, string | null, string]> = [];
      for (let i = 0; i < 3; i++) {
        const r = await signIn(who, "wrong password", ip);
        seen.push([r.status, r.retryAfter, r.body.error.message]);
      }
      // Locked: even the right password is not checked.
      const locked = await signIn(who, testPassword, ip);
      seen.push([locked.status, locked.retryAfter, locked.body.error.message]);
      expect(locked.body.error).toEqual({
        code: "RATE_LIMITED",
        message: "Too many failed sign-ins; try again in 1 second",
        details: { retryAfterMs: 1000 },
      });
      clock += 1000;
      const again = await signIn(who, "wrong password", ip);
      seen.push([again.status, again.retryAfter, again.body.error.message]);
      const longer = await signIn(who, "wrong password", ip);
      seen.push([longer.status, longer.retryAfter, longer.body.error.message]);
      clock += 2000;
      return seen;
    };
    const known = await sequence(email);
    expect(known.map(([status, retry]) => [status, retry])).toEqual([
      [401, null],
      [401, null],
      [401, null],
      [429, "1"],
      [401, null],
      [429, "2"],
    ]);
    expect(await sequence(`nobody.${Date.now()}@test.example`)).toEqual(known);
    expect((await signIn(email, testPassword, newAddress())).status).toBe(200);
  });

  it("clears the account's failures when the right password arrives", async () => {
    const ip = newAddress();
    expect((await signIn(email, "wrong password", ip)).status).toBe(401);
    expect((await signIn(email, "wrong password", ip)).status).toBe(401);
    expect((await signIn(email, testPassword, ip)).status).toBe(200);
    expect((await signIn(email, "wrong password", ip)).status).toBe(401);
    expect((await signIn(email, "wrong password", ip)).status).toBe(401);
    expect((await signIn(email, testPassword, ip)).status).toBe(200);
  });

  it("locks out an address that fails on many accounts, not the others", async () => {
    const ip = newAddress();
    for (let i = 0; i < 8; i++) expect((await signIn(`spray${i}.${driver}@test.example`, "guess-1234", ip)).status).toBe(401);
    const refused = await signIn(email, testPassword, ip);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("RATE_LIMITED");
    expect((await signIn(email, testPassword, newAddress())).status).toBe(200);
    clock += 1000;
  });

  it("rotates the session at every sign-in and ends the one the request carried, with its sockets", async () => {
    const first = await signIn(email, testPassword, newAddress());
    const socket = connectSocket(server.url, first.cookie);
    sockets.push(socket);
    const ended: SessionEndReason[] = [];
    socket.on("session:ended", ({ reason }) => ended.push(reason));
    await waitForConnect(socket);

    // A failed sign-in changes nothing about the session the request carried.
    expect((await signIn(email, "wrong password", newAddress(), first.cookie)).status).toBe(401);
    expect(await me(first.cookie!)).toBe(200);

    const second = await signIn(email, testPassword, newAddress(), first.cookie);
    expect(second.status).toBe(200);
    expect(second.cookie).not.toBe(first.cookie);
    expect(await me(first.cookie!)).toBe(401);
    expect(await me(second.cookie!)).toBe(200);
    expect(await sessionRow(first.cookie!)).toBeUndefined();
    await until(() => socket.disconnected);
    expect(ended).toEqual(["signed_out"]);
  });

  it("logout deletes the session and ends that session's sockets at once, and no other session's", async () => {
    const a = (await signIn(email, testPassword, newAddress())).cookie!;
    const b = (await signIn(email, testPassword, newAddress())).cookie!;
    const onA = connectSocket(server.url, a);
    const onB = connectSocket(server.url, b);
    sockets.push(onA, onB);
    const ended: SessionEndReason[] = [];
    onA.on("session:ended", ({ reason }) => ended.push(reason));
    onB.on("session:ended", () => ended.push("expired"));
    await Promise.all([waitForConnect(onA), waitForConnect(onB)]);

    const res = await fetch(`${server.url}/api/auth/logout`, { method: "POST", headers: { cookie: a } });
    expect(res.status).toBe(204);
    expect(res.headers.get("set-cookie")).toMatch(/^lpb_session=;/);
    await until(() => onA.disconnected);
    expect(ended).toEqual(["signed_out"]);
    expect(await sessionRow(a)).toBeUndefined();
    expect(await me(a)).toBe(401);
    expect(onB.connected).toBe(true);
    expect((await request(onB, "board:join", {})).ok).toBe(true);
    expect(await me(b)).toBe(200);
  });

  it("ends a session unused for SESSION_IDLE_MINUTES, writing last_seen_at at most once a minute", async () => {
    const cookie = (await signIn(email, testPassword, newAddress())).cookie!;
    const signedInAt = clock;
    expect((await sessionRow(cookie))!.lastSeenAt.getTime()).toBe(signedInAt);
    clock += 30_000;
    expect(await me(cookie)).toBe(200);
    expect((await sessionRow(cookie))!.lastSeenAt.getTime()).toBe(signedInAt);
    clock += 719 * minute;
    expect(await me(cookie)).toBe(200);
    expect((await sessionRow(cookie))!.lastSeenAt.getTime()).toBe(clock);
    clock += 719 * minute;
    expect(await me(cookie)).toBe(200);
    clock += 721 * minute;
    expect(await me(cookie)).toBe(401);
    const swept = await server.app.services.auth.sweepExpired(new Date(clock));
    expect(swept).toContain(sessionIdOf(cookie.split("=")[1]!));
    expect(await sessionRow(cookie)).toBeUndefined();
  });

  it("ends even a busy session 14 days after sign-in", async () => {
    const cookie = (await signIn(email, testPassword, newAddress())).cookie!;
    for (let hours = 0; hours < 14 * 24 - 11; hours += 11) {
      clock += 11 * 60 * minute;
      expect(await me(cookie)).toBe(200);
    }
    clock += 11 * 60 * minute;
    expect(await me(cookie)).toBe(401);
  });

  it("counts socket commands as activity, and ends the socket of a session that expired", async () => {
    const cookie = (await signIn(email, testPassword, newAddress())).cookie!;
    const socket = connectSocket(server.url, cookie);
    sockets.push(socket);
    const ended: SessionEndReason[] = [];
    socket.on("session:ended", ({ reason }) => ended.push(reason));
    await waitForConnect(socket);
    clock += 700 * minute;
    expect((await request(socket, "board:join", {})).ok).toBe(true);
    await expect.poll(async () => (await sessionRow(cookie))?.lastSeenAt.getTime()).toBe(clock);
    clock += 700 * minute;
    expect(await me(cookie)).toBe(200);

    clock += 721 * minute;
    // Its answer may or may not arrive before the socket is ended.
    void request(socket, "board:join", {}).catch(() => undefined);
    await until(() => socket.disconnected);
    expect(ended).toEqual(["expired"]);
    expect(await me(cookie)).toBe(401);
  });
});
