import { createHash } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sessions, users } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import type { UserCreated, UserView } from "../../shared/schemas/users.ts";
import { systemActor, type Actor } from "../../server/services/actor.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeLead, makeUser, testPassword } from "../support/builders.ts";
import {
  connectSocket,
  login,
  request,
  startTestServer,
  until,
  waitForConnect,
  type TestServer,
  type TestSocket,
} from "../support/server.ts";

interface ErrorJson {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}

const newPassword = "a brand new passphrase";
let serial = 0;
const email = (tag: string) => `${tag}.${Date.now().toString(36)}${++serial}@users.example`;

describe.each(drivers)("users and invitations over HTTP on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let adminId: string;
  let adminActor: Actor;
  let adminCookie: string;
  let marketerCookie: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const admin = await makeUser(server.app.services.auth, "admin", "Ada Admin");
    const marketer = await makeUser(server.app.services.auth, "marketer");
    adminId = admin.user.id;
    adminActor = admin.actor;
    adminCookie = await login(server.url, admin.user.email);
    marketerCookie = await login(server.url, marketer.user.email);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const api = (path: string, init: { method?: string; json?: unknown; as?: string | null } = {}) =>
    fetch(`${server.url}/api${path}`, {
      method: init.method ?? "GET",
      headers: {
        "content-type": "application/json",
        ...(init.as === null ? {} : { cookie: init.as ?? adminCookie }),
      },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  const errorOf = async (res: Response) => ((await res.json()) as ErrorJson).error;
  const userCount = async () => (await t.database.db.select({ n: count() }).from(users))[0]!.n;
  const rowOf = async (id: string) => (await t.database.db.select().from(users).where(eq(users.id, id)))[0]!;
  const tokenOf = (inviteUrl: string) => inviteUrl.slice(inviteUrl.lastIndexOf("/") + 1);

  async function createUser(json: Record<string, unknown>): Promise<UserCreated> {
    const res = await api("/users", { method: "POST", json });
    expect(res.status).toBe(201);
    return (await res.json()) as UserCreated;
  }
  const invite = (name = "Ivy Invited", role = "viewer") => createUser({ email: email("invited"), name, role });
  const accept = (token: string, password = newPassword) =>
    api("/auth/accept-invite", { method: "POST", as: null, json: { token, password } });
  const patch = (id: string, json: unknown, as?: string) => api(`/users/${id}`, { method: "PATCH", json, ...(as ? { as } : {}) });
  const loginStatus = async (address: string, password: string) =>
    (
      await fetch(`${server.url}/api/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email: address, password }),
      })
    ).status;

  /** A signed-in user with an open socket that records, in order, what ends it. */
  async function connectedUser(role: "viewer" | "salesperson" = "viewer") {
    const { user } = await makeUser(server.app.services.auth, role);
    const cookie = await login(server.url, user.email);
    const socket = connectSocket(server.url, cookie);
    sockets.push(socket);
    const seen: string[] = [];
    socket.on("session:ended", ({ reason }) => seen.push(`ended:${reason}`));
    socket.on("disconnect", () => seen.push("disconnected"));
    await waitForConnect(socket);
    return { user, cookie, socket, seen };
  }

  it("creates a user with a password who can sign in at once", async () => {
    const address = email("Pat").toUpperCase();
    const { user, inviteUrl } = await createUser({
      email: `  ${address} `,
      name: " Pat Password ",
      role: "marketer",
      password: newPassword,
    });
    expect(inviteUrl).toBeUndefined();
    expect(user).toEqual({
      id: expect.any(String),
      email: address.toLowerCase(),
      name: "Pat Password",
      role: "marketer",
      active: true,
      invitePending: false,
      createdAt: expect.any(String),
    });
    expect(await loginStatus(address.toLowerCase(), newPassword)).toBe(200);
  });

  it("invites a user: the link sets the password once, and then they sign in", async () => {
    const res = await api("/users", { method: "POST", json: { email: email("ivy"), name: "Ivy", role: "salesperson" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { user, inviteUrl } = (await res.json()) as UserCreated;
    expect(user).toMatchObject({ invitePending: true, active: true, role: "salesperson" });
    expect(inviteUrl).toMatch(new RegExp(`^${server.url}/invite/[\\w-]{43}$`));
    const token = tokenOf(inviteUrl!);

    const row = await rowOf(user.id);
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row.inviteTokenHash).toBe(createHash("sha256").update(token).digest("base64url"));
    const days = (row.inviteExpiresAt!.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    // Invited, not yet a password: nothing signs in.
    expect(await loginStatus(user.email, newPassword)).toBe(401);

    const accepted = await accept(token);
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get("set-cookie")).toBeNull();
    expect(((await accepted.json()) as { user: UserView }).user).toEqual({ ...user, invitePending: false });
    expect((await rowOf(user.id)).inviteExpiresAt).toBeNull();
    expect(await loginStatus(user.email, newPassword)).toBe(200);

    // Used once: the same link no longer works, and the password stays.
    const again = await accept(token, "another passphrase!");
    expect(again.status).toBe(404);
    expect(await loginStatus(user.email, newPassword)).toBe(200);
  });

  it("answers one clear error for a garbage, expired or used link, and changes nothing", async () => {
    const { user, inviteUrl } = await invite();
    const token = tokenOf(inviteUrl!);
    await t.database.db.update(users).set({ inviteExpiresAt: new Date(Date.now() - 1000) }).where(eq(users.id, user.id));
    const before = await rowOf(user.id);

    const garbage = await errorOf(await accept("x".repeat(43)));
    const expired = await errorOf(await accept(token));
    expect(garbage.code).toBe("NOT_FOUND");
    expect(garbage.message).toMatch(/invitation link is not valid/);
    // The same words whether or not a user is behind the token.
    expect(expired).toEqual(garbage);
    expect(await rowOf(user.id)).toEqual(before);

    const badInputs = [
      { token },
      { password: newPassword },
      { token, password: "short" },
      { token, password: newPassword, role: "admin" },
    ];
    for (const json of badInputs) {
      const res = await api("/auth/accept-invite", { method: "POST", as: null, json });
      expect(res.status).toBe(400);
      expect((await errorOf(res)).code).toBe("INVALID_INPUT");
    }
    expect(await rowOf(user.id)).toEqual(before);
  });

  it("renews a pending invitation (the old link stops working) and refuses users who set a password", async () => {
    const { user, inviteUrl } = await invite();
    const renewed = await api(`/users/${user.id}/invite`, { method: "POST" });
    expect(renewed.status).toBe(200);
    expect(renewed.headers.get("cache-control")).toBe("no-store");
    const body = (await renewed.json()) as UserCreated;
    expect(body.user).toEqual(user);
    expect(body.inviteUrl).not.toBe(inviteUrl);
    expect((await accept(tokenOf(inviteUrl!))).status).toBe(404);
    expect((await accept(tokenOf(body.inviteUrl!))).status).toBe(200);

    // Forwarded headers count only when `trust proxy` trusts the sender (off by default).
    const spoofed = await fetch(`${server.url}/api/users/${(await invite()).user.id}/invite`, {
      method: "POST",
      headers: { cookie: adminCookie, "x-forwarded-host": "evil.example", "x-forwarded-proto": "https" },
    });
    expect(((await spoofed.json()) as UserCreated).inviteUrl).toMatch(new RegExp(`^${server.url}/invite/`));

    const done = await api(`/users/${user.id}/invite`, { method: "POST" });
    expect(done.status).toBe(409);
    expect((await errorOf(done)).message).toMatch(/already set a password/);
    expect((await api("/users/7f1e7c1e-2b4e-4c55-9d0a-1a2b3c4d5e6f/invite", { method: "POST" })).status).toBe(404);
    expect((await api("/users/nope/invite", { method: "POST" })).status).toBe(400);
  });

  it("refuses a duplicate email, whatever its case, and creates nothing", async () => {
    const address = email("dup");
    await createUser({ email: address, name: "First", role: "viewer", password: newPassword });
    const before = await userCount();
    const res = await api("/users", { method: "POST", json: { email: address.toUpperCase(), name: "Second", role: "viewer" } });
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toEqual({ code: "CONFLICT", message: `A user with the email ${address} already exists` });
    expect(await userCount()).toBe(before);
  });

  it.each([
    ["no email", { name: "N", role: "viewer" }, "email"],
    ["a bad email", { email: "not-an-email", name: "N", role: "viewer" }, "email"],
    ["no name", { email: "nn@users.example", role: "viewer" }, "name"],
    ["a blank name", { email: "nn@users.example", name: "  ", role: "viewer" }, "name"],
    ["no role", { email: "nn@users.example", name: "N" }, "role"],
    ["an unknown role", { email: "nn@users.example", name: "N", role: "superuser" }, "role"],
    ["a short password", { email: "nn@users.example", name: "N", role: "viewer", password: "short" }, "password"],
    ["an extra field", { email: "nn@users.example", name: "N", role: "viewer", active: false }, "(body)"],
  ])("rejects %s with INVALID_INPUT and creates nothing", async (_case, json, field) => {
    const before = await userCount();
    const res = await api("/users", { method: "POST", json });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.details?.map((d) => d.field)).toContain(field);
    expect(await userCount()).toBe(before);
  });

  it("lists users by name without secrets, and rejects bad changes", async () => {
    const { user } = await invite("aaron lowercase");
    const res = await api("/users");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toMatch(/scrypt|passwordHash|inviteTokenHash/);
    const listed = (JSON.parse(text) as { users: UserView[] }).users;
    const names = listed.map((u) => u.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, "en", { sensitivity: "base" })));
    expect(listed.find((u) => u.id === user.id)).toEqual(user);

    const before = await rowOf(user.id);
    for (const json of [{}, { role: "boss" }, { active: "no" }, { name: "" }, { email: "x@y.example" }]) {
      const bad = await patch(user.id, json);
      expect(bad.status).toBe(400);
      expect((await errorOf(bad)).code).toBe("INVALID_INPUT");
    }
    expect((await patch("7f1e7c1e-2b4e-4c55-9d0a-1a2b3c4d5e6f", { role: "viewer" })).status).toBe(404);
    expect((await patch("nope", { role: "viewer" })).status).toBe(400);
    expect(await rowOf(user.id)).toEqual(before);
  });

  it("refuses people who are not admins (FORBIDDEN) and strangers (401), and changes nothing", async () => {
    const { user } = await invite();
    const before = { count: await userCount(), row: await rowOf(user.id) };
    const calls = [
      () =>
        api("/users", {
          method: "POST",
          json: { email: email("x"), name: "X", role: "admin", password: newPassword },
          as: marketerCookie,
        }),
      () => api("/users", { as: marketerCookie }),
      () => patch(user.id, { role: "admin" }, marketerCookie),
      () => api(`/users/${user.id}/invite`, { method: "POST", as: marketerCookie }),
    ];
    for (const call of calls) {
      const res = await call();
      expect(res.status).toBe(403);
      expect((await errorOf(res)).code).toBe("FORBIDDEN");
    }
    expect((await api("/users", { as: null })).status).toBe(401);
    expect((await api(`/users/${user.id}`, { method: "PATCH", json: { active: false }, as: null })).status).toBe(401);
    expect(await userCount()).toBe(before.count);
    expect(await rowOf(user.id)).toEqual(before.row);
  });

  it("deactivating ends the user's sockets at once, their sessions and sign-in; reactivating restores sign-in", async () => {
    const { user, cookie, socket, seen } = await connectedUser();
    const res = await patch(user.id, { active: false });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user: UserView }).user).toMatchObject({ id: user.id, active: false });
    await until(() => seen.includes("disconnected"));
    expect(seen).toEqual(["ended:deactivated", "disconnected"]);
    expect(socket.connected).toBe(false);

    expect(await t.database.db.select().from(sessions).where(eq(sessions.userId, user.id))).toEqual([]);
    expect((await fetch(`${server.url}/api/me`, { headers: { cookie } })).status).toBe(401);
    const again = connectSocket(server.url, cookie);
    sockets.push(again);
    await expect(waitForConnect(again)).rejects.toThrow("UNAUTHENTICATED");
    expect(await loginStatus(user.email, testPassword)).toBe(401);

    const back = await patch(user.id, { active: true });
    expect(((await back.json()) as { user: UserView }).user.active).toBe(true);
    expect(await loginStatus(user.email, testPassword)).toBe(200);
    // The old session stays ended.
    expect((await fetch(`${server.url}/api/me`, { headers: { cookie } })).status).toBe(401);
  });

  it("a role change ends the user's sockets; the session stays and the new role applies on reconnect", async () => {
    const lead = await makeLead(t.database.db, server.app.services.leads, adminActor);
    const { user, cookie, socket, seen } = await connectedUser("viewer");
    const move = { leadId: lead.id, toStage: "automated_marketing_qualification", expectedVersion: lead.version };
    const refused = await request<LeadCard>(socket, "lead:move", move);
    expect(!refused.ok && refused.error.code).toBe("FORBIDDEN");

    const res = await patch(user.id, { role: "marketer" });
    expect(((await res.json()) as { user: UserView }).user.role).toBe("marketer");
    await until(() => seen.includes("disconnected"));
    expect(seen).toEqual(["ended:role_changed", "disconnected"]);

    const me = await fetch(`${server.url}/api/me`, { headers: { cookie } });
    expect(((await me.json()) as { user: UserView }).user.role).toBe("marketer");
    const reconnected = connectSocket(server.url, cookie);
    sockets.push(reconnected);
    await waitForConnect(reconnected);
    const moved = await request<LeadCard>(reconnected, "lead:move", move);
    expect(moved).toMatchObject({ ok: true, data: { id: lead.id, stage: "automated_marketing_qualification" } });

    // A name change alone leaves sockets alone.
    const renamed = connectSocket(server.url, cookie);
    sockets.push(renamed);
    await waitForConnect(renamed);
    await patch(user.id, { name: "Renamed Person" });
    expect((await request(renamed, "board:join", {})).ok).toBe(true);
  });

  it("an admin may neither deactivate nor demote themselves", async () => {
    const before = await rowOf(adminId);
    for (const json of [{ active: false }, { role: "viewer" }]) {
      const res = await patch(adminId, json);
      expect(res.status).toBe(409);
      expect((await errorOf(res)).message).toMatch(/yourself|your own admin role/);
    }
    expect(await rowOf(adminId)).toEqual(before);
    expect((await api("/users")).status).toBe(200);
  });
});

describe.each(drivers)("the last active admin on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it("can never be deactivated or demoted, even by the system; with another admin it can", async () => {
    const { users: service, auth } = server.app.services;
    const system = systemActor("test");
    const a = await makeUser(auth, "admin", "Admin A");
    const b = await makeUser(auth, "admin", "Admin B");
    const now = new Date();
    await service.update(system, a.user.id, { active: false }, now);
    for (const patch of [{ active: false }, { role: "viewer" as const }]) {
      await expect(service.update(system, b.user.id, patch, now)).rejects.toMatchObject({
        code: "CONFLICT",
        message: "Admin B is the last active admin and must stay one: make another user an admin first",
      });
    }
    await service.update(system, a.user.id, { active: true }, now);
    await service.update(a.actor, b.user.id, { role: "viewer" }, now);
    await service.update(a.actor, b.user.id, { role: "admin" }, now);

    // Two admins removing each other at the same time: one wins, one admin stays.
    const results = await Promise.allSettled([
      service.update(a.actor, b.user.id, { active: false }, now),
      service.update(b.actor, a.user.id, { role: "viewer" }, now),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected");
    expect(refused?.reason).toMatchObject({ code: "CONFLICT" });
    const admins = (await service.list(system)).filter((u) => u.role === "admin" && u.active);
    expect(admins).toHaveLength(1);
  });
});
