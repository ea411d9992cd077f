import { createHash } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { io as connect } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { auditLog, displayTokens } from "../../drizzle/schema.ts";
import type { BoardActivity, BoardEvent, BoardPage, BoardSnapshot, LeadCard } from "../../shared/board.ts";
import type { BoardPresence } from "../../shared/presence.ts";
import type { DisplayTokenCreated, DisplayTokenView, WallConfig } from "../../shared/schemas/display-tokens.ts";
import type { ProcessView } from "../../shared/schemas/processes.ts";
import type { SavedView } from "../../shared/schemas/saved-views.ts";
import type { Actor } from "../../server/services/actor.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeLead, makeUser } from "../support/builders.ts";
import { connectSocket, login, request, startTestServer, until, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";

interface ErrorJson {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}

/** A wall's socket and everything it received, in order. */
interface Wall {
  socket: TestSocket;
  configs: WallConfig[];
  events: BoardEvent[];
  presences: BoardPresence[];
  versions: unknown[];
  log: string[];
}

describe.each(drivers)("wall displays on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  let cookie: string;
  let marketerCookie: string;
  let marketerId: string;
  let defaultProcessId: string;
  let other: ProcessView;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database, undefined, { deps: { scoring: { autoStart: false } } });
    const a = await makeUser(server.app.services.auth, "admin", "Ada Admin");
    const m = await makeUser(server.app.services.auth, "marketer", "Max Marketer");
    admin = a.actor;
    marketerId = m.user.id;
    cookie = await login(server.url, a.user.email);
    marketerCookie = await login(server.url, m.user.email);
    const processes = (await (await api("/processes")).json()) as ProcessView[];
    defaultProcessId = processes.find((p) => p.isDefault)!.id;
    other = await server.app.services.processes.create(admin, { name: "Partners", stages: [{ key: "new", name: "New" }, { key: "won", name: "Won" }] }, new Date());
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  function api(path: string, init: RequestInit & { json?: unknown; as?: string | null } = {}) {
    return fetch(`${server.url}/api${path}`, {
      ...init,
      headers: { "content-type": "application/json", ...(init.as === null ? {} : { cookie: init.as ?? cookie }) },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  }
  const tokenCount = async () => (await t.database.db.select({ n: count() }).from(displayTokens))[0]!.n;
  const auditRows = () => t.database.db.select().from(auditLog);
  async function createDisplay(json: unknown): Promise<DisplayTokenCreated> {
    const res = await api("/display-tokens", { method: "POST", json });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as DisplayTokenCreated;
  }
  const allScreen = () => ({ name: "Sales room", screens: [{ processId: defaultProcessId }] });

  /** Connects a wall with its token and records what it receives. */
  async function wall(token: string): Promise<Wall> {
    const socket: TestSocket = connect(server.url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { displayToken: token } });
    sockets.push(socket);
    const w: Wall = { socket, configs: [], events: [], presences: [], versions: [], log: [] };
    socket.on("wall:config", (c) => w.configs.push(c));
    socket.on("server:version", (v) => w.versions.push(v));
    socket.on("board:event", (e) => w.events.push(e));
    socket.on("board:presence", (p) => w.presences.push(p));
    socket.on("session:ended", ({ reason }) => w.log.push(`ended:${reason}`));
    socket.on("disconnect", (reason) => w.log.push(`disconnect:${reason}`));
    await waitForConnect(socket);
    await until(() => w.configs.length === 1);
    return w;
  }
  function refusedHandshake(token: string): Promise<{ code?: string }> {
    const socket: TestSocket = connect(server.url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { displayToken: token } });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once("connect", () => reject(new Error("the handshake was accepted")));
      socket.once("connect_error", (err) => resolve((err as Error & { data?: { code?: string } }).data ?? {}));
    });
  }

  it("creates a token that is shown once, stored as a hash, listed and audited without it", async () => {
    const before = (await auditRows()).length;
    const res = await api("/display-tokens", {
      method: "POST",
      json: { name: " Sales room ", screens: [{ processId: defaultProcessId }, { processId: defaultProcessId, view: "sales_ready", label: "Hot" }], rotateSeconds: 30, sound: true },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { token, url, displayToken } = (await res.json()) as DisplayTokenCreated;
    expect(token).toMatch(/^lpd_[\w-]{43}$/);
    expect(url).toBe(`${server.url}/wall/${token}`);
    expect(displayToken).toEqual({
      id: expect.any(String),
      name: "Sales room",
      prefix: token.slice(0, 12),
      screens: [
        { processId: defaultProcessId, view: "all", filters: {}, label: "Lead to opportunity marketing sales process" },
        { processId: defaultProcessId, view: "sales_ready", filters: {}, label: "Hot" },
      ],
      rotateSeconds: 30,
      sound: true,
      createdAt: expect.any(String),
      createdBy: admin.id,
      revokedAt: null,
      lastSeenAt: null,
    });
    const [row] = await t.database.db.select().from(displayTokens).where(eq(displayTokens.id, displayToken.id));
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row!.tokenHash).toBe(createHash("sha256").update(token).digest("base64url"));

    const listed = await api("/display-tokens");
    const text = await listed.text();
    expect(text).not.toContain(token);
    expect(JSON.parse(text)).toEqual({ displayTokens: expect.arrayContaining([displayToken]) });

    const audits = (await auditRows()).slice(before);
    expect(JSON.stringify(audits)).not.toContain(token);
    expect(audits).toEqual([
      expect.objectContaining({
        action: "display_token.created",
        actorId: admin.id,
        targetType: "display_token",
        targetId: displayToken.id,
        targetName: "Sales room",
        details: { screens: 2, names: ["Lead to opportunity marketing sales process", "Hot"] },
      }),
    ]);
  });

  it("copies a shared saved view (or the admin's own) into the screen, and refuses someone else's private one", async () => {
    const saveView = async (as: string, json: object) => {
      const res = await api("/saved-views", { method: "POST", as, json });
      expect(res.status, await res.clone().text()).toBe(201);
      return (await res.json()) as SavedView;
    };
    const shared = await saveView(marketerCookie, { name: "Webinar leads", processId: defaultProcessId, view: "sales_ready", filters: { campaign: "Webinar" }, shared: true });
    const mine = await saveView(cookie, { name: "Mine", processId: defaultProcessId, filters: { owner: "me", grades: ["A"] } });
    const theirs = await saveView(marketerCookie, { name: "Private", processId: defaultProcessId, filters: {} });

    const { displayToken } = await createDisplay({
      name: "Views",
      screens: [{ processId: defaultProcessId, savedViewId: shared.id }, { processId: defaultProcessId, savedViewId: mine.id, label: "Ours" }],
    });
    expect(displayToken.screens).toEqual([
      { processId: defaultProcessId, view: "sales_ready", filters: { campaign: "Webinar" }, label: "Webinar leads" },
      // "me" was the admin: the wall keeps the owner the view meant.
      { processId: defaultProcessId, view: "all", filters: { owner: admin.id, grades: ["A"] }, label: "Ours" },
    ]);

    const before = await tokenCount();
    const refused = async (screen: object, field: string) => {
      const res = await api("/display-tokens", { method: "POST", json: { name: "Bad", screens: [screen] } });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as ErrorJson;
      expect(error.code).toBe("INVALID_INPUT");
      expect(error.details?.map((d) => d.field)).toEqual([field]);
    };
    await refused({ processId: defaultProcessId, savedViewId: theirs.id }, "screens.0.savedViewId");
    await refused({ processId: defaultProcessId, savedViewId: crypto.randomUUID() }, "screens.0.savedViewId");
    await refused({ processId: other.id, savedViewId: shared.id }, "screens.0.savedViewId");
    await refused({ processId: defaultProcessId, savedViewId: shared.id, view: "all" }, "screens.0.view");
    expect(await tokenCount()).toBe(before);
  });

  it.each([
    ["no screens", { name: "Wall", screens: [] }, "screens"],
    ["screens missing", { name: "Wall" }, "screens"],
    ["no name", { screens: [{ processId: "00000000-0000-4000-8000-000000000000" }] }, "name"],
    ["an unknown process", { name: "Wall", screens: [{ processId: "00000000-0000-4000-8000-000000000000" }] }, "screens.0.processId"],
    ["a process id that is no id", { name: "Wall", screens: [{ processId: "default" }] }, "screens.0.processId"],
    ["a wall watching its own leads", { name: "Wall", screens: [{ processId: "DEFAULT", view: "my_leads" }] }, "screens.0.view"],
    ["rotation too fast", { name: "Wall", screens: [{ processId: "DEFAULT" }], rotateSeconds: 5 }, "rotateSeconds"],
    ["rotation too slow", { name: "Wall", screens: [{ processId: "DEFAULT" }], rotateSeconds: 3601 }, "rotateSeconds"],
    ["nine screens", { name: "Wall", screens: Array.from({ length: 9 }, () => ({ processId: "DEFAULT" })) }, "screens"],
    ["an extra field", { name: "Wall", screens: [{ processId: "DEFAULT" }], theme: "light" }, "(body)"],
    ["an extra screen field", { name: "Wall", screens: [{ processId: "DEFAULT", boardId: "x" }] }, "screens.0"],
  ])("rejects %s with INVALID_INPUT and creates nothing", async (_case, body, field) => {
    const json = JSON.parse(JSON.stringify(body).replaceAll("DEFAULT", defaultProcessId)) as unknown;
    const before = [await tokenCount(), (await auditRows()).length];
    const res = await api("/display-tokens", { method: "POST", json });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorJson;
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.details?.map((d) => d.field)).toContain(field);
    expect([await tokenCount(), (await auditRows()).length]).toEqual(before);
  });

  it("lets only admins create, list and revoke", async () => {
    const { token, displayToken } = await createDisplay(allScreen());
    const before = await tokenCount();
    for (const as of [marketerCookie, null] as const) {
      const status = as === null ? 401 : 403;
      const made = await api("/display-tokens", { method: "POST", as, json: allScreen() });
      expect(made.status).toBe(status);
      if (as) expect(((await made.json()) as ErrorJson).error.code).toBe("FORBIDDEN");
      expect((await api("/display-tokens", { as })).status).toBe(status);
      expect((await api(`/display-tokens/${displayToken.id}`, { method: "DELETE", as })).status).toBe(status);
    }
    expect(await tokenCount()).toBe(before);
    // Still live: a wall connects with it.
    const w = await wall(token);
    expect(w.configs).toHaveLength(1);
  });

  it("connects a wall with its token: its config, the boards it names, live events, and nothing else", async () => {
    const { token, displayToken } = await createDisplay({
      name: "Sales room",
      screens: [{ processId: defaultProcessId }, { processId: defaultProcessId, view: "sales_ready" }],
      rotateSeconds: 60,
    });
    const w = await wall(token);
    expect(w.configs).toEqual([{ name: "Sales room", screens: displayToken.screens, rotateSeconds: 60, sound: false }]);
    // No client build is served in this test, so no version is announced.
    expect(w.versions).toEqual([]);

    const joined = await request<BoardSnapshot>(w.socket, "board:join", { processId: defaultProcessId, view: "all" });
    expect(joined.ok).toBe(true);
    if (!joined.ok) return;
    const boardId = joined.data.boardId;
    const lead = await makeLead(t.database.db, server.app.services.leads, admin);
    const user = connectSocket(server.url, cookie);
    sockets.push(user);
    await waitForConnect(user);
    const moved = await request<LeadCard>(user, "lead:move", { leadId: lead.id, toStage: "automated_marketing_qualification", expectedVersion: lead.version });
    expect(moved.ok).toBe(true);
    await until(() => w.events.some((e) => e.type === "lead.moved" && e.lead.id === lead.id));

    // Reads of the joined board work; another view or another board does not.
    expect((await request<BoardPage>(w.socket, "board:page", { boardId, stage: "inquiry" })).ok).toBe(true);
    expect((await request<BoardActivity>(w.socket, "board:activity", { boardId })).ok).toBe(true);
    for (const payload of [{ processId: defaultProcessId, view: "teleprospecting_queue" }, { processId: other.id, view: "all" }, { processId: other.id }]) {
      const ack = await request(w.socket, "board:join", payload);
      expect(ack.ok ? "joined" : ack.error.code).toBe("FORBIDDEN");
    }
    for (const [name, payload] of [
      ["board:page", { boardId: other.boardId, stage: "new" }],
      ["board:activity", { boardId: other.boardId }],
      ["board:resync", { boardId: other.boardId, sinceSeq: 0 }],
      ["wall:figures", { boardId: other.boardId, dayStart: new Date(Date.now() - 3_600_000).toISOString(), weekStart: new Date(Date.now() - 86_400_000).toISOString() }],
    ] as const) {
      const ack = await request(w.socket, name, payload);
      expect(ack.ok ? "answered" : ack.error.code, name).toBe("FORBIDDEN");
    }
    // The second screen's view of the same board is allowed.
    expect((await request(w.socket, "board:join", { processId: defaultProcessId, view: "sales_ready" })).ok).toBe(true);

    // Commands that change something are refused, and change nothing.
    const current = await server.app.services.leads.get(lead.id);
    const move = await request(w.socket, "lead:move", { leadId: lead.id, toStage: "inquiry", expectedVersion: current.version });
    expect(move.ok ? "moved" : move.error.code).toBe("FORBIDDEN");
    const presence = await request(w.socket, "presence:set", { boardId, activity: { leadId: lead.id, kind: "open" } });
    expect(presence.ok ? "set" : presence.error.code).toBe("FORBIDDEN");
    expect(await server.app.services.leads.get(lead.id)).toEqual(current);

    // Seen: the list says when the wall last connected.
    const listed = ((await (await api("/display-tokens")).json()) as { displayTokens: DisplayTokenView[] }).displayTokens;
    expect(listed.find((d) => d.id === displayToken.id)!.lastSeenAt).not.toBeNull();
  });

  it("leaves walls out of presence: people see only people, and the wall is not told who is there", async () => {
    const { token } = await createDisplay(allScreen());
    const w = await wall(token);
    expect((await request(w.socket, "board:join", { processId: defaultProcessId, view: "all" })).ok).toBe(true);
    const presences: BoardPresence[] = [];
    const person = connectSocket(server.url, marketerCookie);
    sockets.push(person);
    person.on("board:presence", (p) => presences.push(p));
    await waitForConnect(person);
    expect((await request(person, "board:join", { processId: defaultProcessId })).ok).toBe(true);
    await until(() => presences.length > 0);
    expect(presences.at(-1)!.viewers.map((v) => v.userId)).toEqual([marketerId]);
    expect(w.presences).toEqual([]);
  });

  it("shows on the wall what a celebration needs: a lead becoming sales-ready, then accepted by sales", async () => {
    let lead = await makeLead(t.database.db, server.app.services.leads, admin, {
      stage: "teleprospecting_qualification",
      flags: { readyForTeleprospecting: true, teleprospectingAccepted: true },
    });
    const { token } = await createDisplay(allScreen());
    const w = await wall(token);
    expect((await request(w.socket, "board:join", { processId: defaultProcessId, view: "all" })).ok).toBe(true);
    const tick = async (flag: string) => {
      const res = await api(`/leads/${lead.id}/flags`, { method: "POST", json: { flag, value: true, expectedVersion: lead.version } });
      expect(res.status, await res.clone().text()).toBe(200);
      lead = (await res.json()) as LeadCard;
    };
    // Ticking sales-ready closes the stage's gate: the lead moves on, sales-ready.
    await tick("sales_ready");
    const ofLead = () => w.events.filter((e) => "lead" in e && e.lead.id === lead.id);
    await until(() => ofLead().length === 1);
    expect(ofLead()).toEqual([
      expect.objectContaining({ type: "lead.moved", fromStage: "teleprospecting_qualification", toStage: "sales_acceptance", lead: expect.objectContaining({ salesReady: true, salesAccepted: false }) }),
    ]);
    // Sales accepts it: the last stage has nowhere to go, so the card is updated.
    await tick("sales_accepted");
    await until(() => ofLead().length === 2);
    expect(ofLead()[1]).toEqual(
      expect.objectContaining({ type: "lead.updated", lead: expect.objectContaining({ salesReady: true, salesAccepted: true }) }),
    );
  });

  it("revokes a token: the wall is told and disconnected at once, and the token no longer connects", async () => {
    const { token, displayToken } = await createDisplay(allScreen());
    const w = await wall(token);
    const before = (await auditRows()).length;

    const res = await api(`/display-tokens/${displayToken.id}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    const revoked = ((await res.json()) as { displayToken: DisplayTokenView }).displayToken;
    expect(revoked.revokedAt).not.toBeNull();
    await until(() => w.log.length === 2);
    expect(w.log).toEqual(["ended:display_revoked", "disconnect:io server disconnect"]);
    expect(await refusedHandshake(token)).toMatchObject({ code: "UNAUTHENTICATED" });

    // Again: the same answer, no second audit entry.
    const again = await api(`/display-tokens/${displayToken.id}`, { method: "DELETE" });
    expect(((await again.json()) as { displayToken: DisplayTokenView }).displayToken).toEqual(revoked);
    const audits = (await auditRows()).slice(before);
    expect(audits.map((a) => [a.action, a.targetId, a.details])).toEqual([["display_token.revoked", displayToken.id, {}]]);
    expect(JSON.stringify(audits)).not.toContain(token);

    const listed = ((await (await api("/display-tokens")).json()) as { displayTokens: DisplayTokenView[] }).displayTokens;
    expect(listed.find((d) => d.id === displayToken.id)!.revokedAt).toBe(revoked.revokedAt);
    expect((await api(`/display-tokens/${crypto.randomUUID()}`, { method: "DELETE" })).status).toBe(404);
    expect((await api(`/display-tokens/not-an-id`, { method: "DELETE" })).status).toBe(400);
  });

  it("refuses an unknown token at the handshake", async () => {
    expect(await refusedHandshake("lpd_unknown")).toMatchObject({ code: "UNAUTHENTICATED" });
    expect(await refusedHandshake(`lpd_${"A".repeat(43)}`)).toMatchObject({ code: "UNAUTHENTICATED" });
  });
});
