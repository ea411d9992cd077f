import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BoardEvent, BoardSnapshot } from "../../shared/board.ts";
import type { BoardPresence, PresenceEntry } from "../../shared/presence.ts";
import type { BoardView } from "../../shared/domain/views.ts";
import { createApp, type App } from "../../server/app.ts";
import { loadConfig } from "../../server/config.ts";
import { openPostgres, type Database } from "../../server/db/client.ts";
import type { Actor } from "../../server/services/actor.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeLead, makeUser, silentLogger } from "../support/builders.ts";
import { connectSocket, login, request, startTestServer, until, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";

type Role = "admin" | "salesperson" | "telemarketer";
const names: Record<Role, string> = { admin: "Ada Admin", salesperson: "Sam Sales", telemarketer: "Tia Tele" };

interface Client {
  socket: TestSocket;
  presences: BoardPresence[];
  events: BoardEvent[];
  boardId: string;
}

/** Connects, joins the board (the role's default view unless told), and records what arrives. */
async function joinAs(url: string, cookie: string, sockets: TestSocket[], view?: BoardView): Promise<Client> {
  const socket = connectSocket(url, cookie);
  sockets.push(socket);
  const presences: BoardPresence[] = [];
  const events: BoardEvent[] = [];
  socket.on("board:presence", (p) => presences.push(p));
  socket.on("board:event", (e) => events.push(e));
  await waitForConnect(socket);
  const ack = await request<BoardSnapshot>(socket, "board:join", view ? { view } : {});
  if (!ack.ok) throw new Error(ack.error.message);
  return { socket, presences, events, boardId: ack.data.boardId };
}

const latest = (c: Client) => c.presences.at(-1);
const entryOf = (p: BoardPresence | undefined, userId: string): PresenceEntry | undefined =>
  p?.viewers.find((v) => v.userId === userId);

async function setPresence(c: Client, activity: unknown, boardId: unknown = c.boardId) {
  return request<BoardPresence>(c.socket, "presence:set", { boardId, activity });
}

describe.each(drivers)("presence on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  const cookies = {} as Record<Role, string>;
  const ids = {} as Record<Role, string>;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    for (const role of ["admin", "salesperson", "telemarketer"] as const) {
      const u = await makeUser(server.app.services.auth, role, names[role]);
      cookies[role] = await login(server.url, u.user.email);
      ids[role] = u.user.id;
      if (role === "admin") admin = u.actor;
    }
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    // Let the server see them go, so the next test starts on an empty board.
    const probe = await joinAs(server.url, cookies.telemarketer, sockets);
    await until(() => latest(probe)?.viewers.length === 1);
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it("shows two people on a board to each other, whatever their view", async () => {
    const a = await joinAs(server.url, cookies.admin, sockets);
    const b = await joinAs(server.url, cookies.salesperson, sockets);
    expect(b.boardId).toBe(a.boardId);
    await until(() => entryOf(latest(a), ids.salesperson) !== undefined);
    await until(() => entryOf(latest(b), ids.admin) !== undefined);
    expect(entryOf(latest(a), ids.salesperson)).toEqual({
      userId: ids.salesperson,
      name: names.salesperson,
      role: "salesperson",
      connections: 1,
      activities: [],
    });
    expect(latest(b)).toMatchObject({ boardId: a.boardId });
    expect(latest(b)!.viewers.map((v) => v.userId).sort()).toEqual([ids.admin, ids.salesperson].sort());
  });

  it("counts two tabs of one person as one entry with two connections", async () => {
    const watcher = await joinAs(server.url, cookies.telemarketer, sockets);
    await joinAs(server.url, cookies.admin, sockets);
    await joinAs(server.url, cookies.admin, sockets, "sales_ready");
    await until(() => entryOf(latest(watcher), ids.admin)?.connections === 2);
    expect(latest(watcher)!.viewers.filter((v) => v.userId === ids.admin)).toHaveLength(1);
  });

  it("sends a lead opened or dragged to the others, and the ack carries the presence", async () => {
    const lead = await makeLead(t.database.db, server.app.services.leads, admin);
    const a = await joinAs(server.url, cookies.admin, sockets);
    const b = await joinAs(server.url, cookies.telemarketer, sockets);
    const opened = await setPresence(a, { leadId: lead.id, kind: "open" });
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    expect(entryOf(opened.data, ids.admin)?.activities).toEqual([{ leadId: lead.id, kind: "open" }]);
    await until(() => entryOf(latest(b), ids.admin)?.activities[0]?.kind === "open");
    expect(entryOf(latest(b), ids.admin)!.activities).toEqual([{ leadId: lead.id, kind: "open" }]);

    await setPresence(a, { leadId: lead.id, kind: "drag" });
    await until(() => entryOf(latest(b), ids.admin)?.activities[0]?.kind === "drag");
    expect(entryOf(latest(b), ids.admin)!.activities).toEqual([{ leadId: lead.id, kind: "drag" }]);

    await setPresence(a, null);
    await until(() => entryOf(latest(b), ids.admin)?.activities.length === 0);
  });

  it("shows a viewer only the holders of leads in its view: a salesperson on Sales-ready learns nothing of other leads", async () => {
    const plain = await makeLead(t.database.db, server.app.services.leads, admin);
    const a = await joinAs(server.url, cookies.admin, sockets);
    const tele = await joinAs(server.url, cookies.telemarketer, sockets);
    const sales = await joinAs(server.url, cookies.salesperson, sockets);
    await setPresence(a, { leadId: plain.id, kind: "open" });
    await until(() => entryOf(latest(tele), ids.admin)?.activities.length === 1);
    // The salesperson sees the admin on the board, but not which (not sales-ready) lead is open.
    await until(() => entryOf(latest(sales), ids.admin) !== undefined);
    const answer = await setPresence(sales, null);
    expect(answer.ok && entryOf(answer.data, ids.admin)?.activities).toEqual([]);
    expect(sales.presences.flatMap((p) => p.viewers.flatMap((v) => v.activities))).toEqual([]);
    expect(JSON.stringify(sales.presences)).not.toContain(plain.id);
  });

  it("keeps what a person holds when they switch views on the same board", async () => {
    const lead = await makeLead(t.database.db, server.app.services.leads, admin);
    const a = await joinAs(server.url, cookies.admin, sockets);
    const b = await joinAs(server.url, cookies.telemarketer, sockets);
    await setPresence(a, { leadId: lead.id, kind: "open" });
    const switched = await request<BoardSnapshot>(a.socket, "board:join", { view: "sales_ready" });
    expect(switched.ok).toBe(true);
    // B's own change makes the server recompute after the switch.
    const ack = await setPresence(b, { leadId: lead.id, kind: "open" });
    if (!ack.ok) throw new Error(ack.error.message);
    expect(entryOf(ack.data, ids.admin)?.activities).toEqual([{ leadId: lead.id, kind: "open" }]);
  });

  it("removes a person who disconnects, and what they held with them", async () => {
    const lead = await makeLead(t.database.db, server.app.services.leads, admin);
    const a = await joinAs(server.url, cookies.admin, sockets);
    const b = await joinAs(server.url, cookies.telemarketer, sockets);
    await setPresence(a, { leadId: lead.id, kind: "drag" });
    await until(() => entryOf(latest(b), ids.admin)?.activities.length === 1);
    a.socket.disconnect();
    await until(() => entryOf(latest(b), ids.admin) === undefined);
    expect(latest(b)!.viewers.flatMap((v) => v.activities)).toEqual([]);
  });

  it("refuses presence on a board the socket has not joined", async () => {
    const a = await joinAs(server.url, cookies.admin, sockets);
    const stranger = connectSocket(server.url, cookies.telemarketer);
    sockets.push(stranger);
    await waitForConnect(stranger);
    const res = await request<BoardPresence>(stranger, "presence:set", { boardId: a.boardId, activity: null });
    expect(res).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
    const other = await setPresence(a, null, "00000000-0000-4000-8000-000000000000");
    expect(other).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
  });

  it("answers bad input with INVALID_INPUT and broadcasts nothing", async () => {
    const lead = await makeLead(t.database.db, server.app.services.leads, admin);
    const a = await joinAs(server.url, cookies.admin, sockets);
    const b = await joinAs(server.url, cookies.telemarketer, sockets);
    // Both acks wait for a recomputation that includes both joins: after them, nothing is pending.
    await setPresence(a, null);
    await setPresence(b, null);
    const before = b.presences.length;
    const bad: unknown[] = [
      { boardId: a.boardId, activity: { leadId: lead.id, kind: "edit" } },
      { boardId: a.boardId, activity: { leadId: "not-a-uuid", kind: "open" } },
      { boardId: a.boardId, activity: { leadId: lead.id, kind: "open", extra: 1 } },
      { boardId: a.boardId },
      { boardId: "nope", activity: null },
      "open",
    ];
    for (const payload of bad) {
      const res = await request<BoardPresence>(a.socket, "presence:set", payload);
      expect(res).toMatchObject({ ok: false, error: { code: "INVALID_INPUT" } });
    }
    // The next valid change is the only broadcast B gets, and nothing bad was recorded.
    const ok = await setPresence(a, { leadId: lead.id, kind: "open" });
    if (!ok.ok) throw new Error(ok.error.message);
    await until(() => b.presences.length > before);
    expect(b.presences.length).toBe(before + 1);
    expect(entryOf(latest(b), ids.admin)!.activities).toEqual([{ leadId: lead.id, kind: "open" }]);
  });

  it("coalesces a client spamming presence:set into a few broadcasts of the latest state", async () => {
    const leads = [
      await makeLead(t.database.db, server.app.services.leads, admin),
      await makeLead(t.database.db, server.app.services.leads, admin),
    ];
    const a = await joinAs(server.url, cookies.admin, sockets);
    const b = await joinAs(server.url, cookies.telemarketer, sockets);
    await setPresence(a, null);
    await setPresence(b, null);
    const before = b.presences.length;
    const spam = Array.from({ length: 60 }, (_, i) =>
      setPresence(a, { leadId: leads[i % 2]!.id, kind: i % 3 === 0 ? "drag" : "open" }),
    );
    const last = { leadId: leads[1]!.id, kind: "drag" as const };
    const acks = [...(await Promise.all(spam)), await setPresence(a, last)];
    expect(acks.every((r) => r.ok)).toBe(true);
    await until(() => entryOf(latest(b), ids.admin)?.activities[0]?.leadId === last.leadId && entryOf(latest(b), ids.admin)?.activities[0]?.kind === "drag");
    const received = b.presences.length - before;
    expect(received).toBeGreaterThanOrEqual(1);
    expect(received).toBeLessThan(15);
  });
});

describe("SOCKET_ADAPTER", () => {
  it("defaults to memory and takes postgres with a PostgreSQL server", () => {
    expect(loadConfig({}).socketAdapter).toBe("memory");
    expect(loadConfig({ DATABASE_URL: "postgres://u@h/db", SOCKET_ADAPTER: "postgres" }).socketAdapter).toBe("postgres");
  });
  it.each([
    [{ SOCKET_ADAPTER: "postgres" }, /SOCKET_ADAPTER=postgres needs DATABASE_URL/],
    [{ SOCKET_ADAPTER: "redis" }, /^Invalid configuration: SOCKET_ADAPTER: /],
  ])("refuses %j with one clear line", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe.runIf(drivers.includes("postgres"))("presence across two nodes on postgres", () => {
  let t: TestDatabase;
  let secondDatabase: Database;
  const nodes: Array<{ app: App; url: string }> = [];
  let admin: Actor;
  let cookieA = "";
  let cookieB = "";
  let adminId = "";
  let salesId = "";
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase("postgres");
    secondDatabase = await openPostgres(t.url!);
    for (const database of [t.database, secondDatabase]) {
      const app = await createApp({ database, logger: silentLogger, socketAdapter: { url: t.url!, heartbeatMs: 1_000 } });
      const { url } = await app.listen(0, "127.0.0.1");
      nodes.push({ app, url });
    }
    // Each node has heard the other (the adapter's heartbeat) before anyone connects.
    for (const node of nodes) {
      const deadline = Date.now() + 10_000;
      while ((await node.app.io.of("/").adapter.serverCount()) !== 2) {
        if (Date.now() > deadline) throw new Error("the two nodes did not find each other");
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const a = await makeUser(nodes[0]!.app.services.auth, "admin", "Ada Admin");
    const s = await makeUser(nodes[0]!.app.services.auth, "telemarketer", "Tia Tele");
    admin = a.actor;
    adminId = a.user.id;
    salesId = s.user.id;
    cookieA = await login(nodes[0]!.url, a.user.email);
    cookieB = await login(nodes[1]!.url, s.user.email);
  });
  afterAll(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    for (const node of nodes) await node.app.close();
    await secondDatabase?.close();
    await t?.close();
  });

  it("shows a person on node B to a person on node A, with what they hold, and drops them on disconnect", async () => {
    const lead = await makeLead(t.database.db, nodes[0]!.app.services.leads, admin);
    const onA = await joinAs(nodes[0]!.url, cookieA, sockets);
    const onB = await joinAs(nodes[1]!.url, cookieB, sockets);
    await until(() => entryOf(latest(onA), salesId) !== undefined);
    await until(() => entryOf(latest(onB), adminId) !== undefined);

    const ack = await setPresence(onB, { leadId: lead.id, kind: "drag" });
    if (!ack.ok) throw new Error(ack.error.message);
    expect(entryOf(ack.data, adminId)).toMatchObject({ name: "Ada Admin", connections: 1 });
    await until(() => entryOf(latest(onA), salesId)?.activities[0]?.leadId === lead.id);
    expect(entryOf(latest(onA), salesId)!.activities).toEqual([{ leadId: lead.id, kind: "drag" }]);

    await setPresence(onA, { leadId: lead.id, kind: "open" });
    await until(() => entryOf(latest(onB), adminId)?.activities[0]?.kind === "open");

    onB.socket.disconnect();
    await until(() => entryOf(latest(onA), salesId) === undefined);
  });

  it("carries presence past NOTIFY's 8000-byte limit (the adapter's attachments table)", async () => {
    const lead = await makeLead(t.database.db, nodes[0]!.app.services.leads, admin);
    const onA = await joinAs(nodes[0]!.url, cookieA, sockets);
    const tabs = await Promise.all(Array.from({ length: 40 }, () => joinAs(nodes[1]!.url, cookieB, sockets)));
    await Promise.all(tabs.map((tab) => setPresence(tab, { leadId: lead.id, kind: "open" })));
    await until(() => entryOf(latest(onA), salesId)?.activities.length === 1, 15_000);
    expect(entryOf(latest(onA), salesId)).toMatchObject({ connections: 40, activities: [{ leadId: lead.id, kind: "open" }] });
    for (const tab of tabs) tab.socket.disconnect();
    await until(() => entryOf(latest(onA), salesId) === undefined, 15_000);
  });

  const created = (c: Client, id: string) => c.events.filter((e) => e.type === "lead.created" && e.lead.id === id);

  it("delivers a board event committed on one node once to the clients of each node", async () => {
    const onA = await joinAs(nodes[0]!.url, cookieA, sockets);
    const onB = await joinAs(nodes[1]!.url, cookieB, sockets);
    const lead = await makeLead(t.database.db, nodes[0]!.app.services.leads, admin);
    const marker = await makeLead(t.database.db, nodes[0]!.app.services.leads, admin);
    // Node A sends in seq order: once the later event is in, the earlier one has had its chance to come twice.
    await until(() => created(onA, marker.id).length > 0 && created(onB, marker.id).length > 0);
    for (const c of [onA, onB]) expect(created(c, lead.id)).toHaveLength(1);
  });

  // Each node follows the event log and sends board events to its own sockets only, so node B
  // never broadcasts node A's events again (before, B met them as a gap and re-sent them to all).
  it("does not re-send another node's events when this node commits next", async () => {
    const onA = await joinAs(nodes[0]!.url, cookieA, sockets);
    const onB = await joinAs(nodes[1]!.url, cookieB, sockets);
    const first = await makeLead(t.database.db, nodes[0]!.app.services.leads, admin);
    await until(() => created(onA, first.id).length > 0 && created(onB, first.id).length > 0);
    const second = await makeLead(secondDatabase.db, nodes[1]!.app.services.leads, admin);
    await until(() => created(onA, second.id).length > 0 && created(onB, second.id).length > 0);
    for (const c of [onA, onB]) expect(created(c, first.id)).toHaveLength(1);
  });
});
