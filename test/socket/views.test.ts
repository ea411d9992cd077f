import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BoardSnapshot, LeadCard, ResyncResult } from "../../shared/board.ts";
import { leadInView, type BoardView } from "../../shared/domain/views.ts";
import { defaultStages } from "../../shared/domain/stages.ts";
import type { Actor } from "../../server/services/actor.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeLead, makeUser } from "../support/builders.ts";
import { collectEvents, connectSocket, login, request, startTestServer, until, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";

describe("leadInView", () => {
  const stages = defaultStages;
  const lead = (stage: string, salesReady = false, ownerId: string | null = null) => ({ stage, salesReady, ownerId });
  it.each([
    ["all", lead("inquiry"), true],
    ["teleprospecting_queue", lead("teleprospecting_acceptance"), true],
    ["teleprospecting_queue", lead("teleprospecting_qualification"), true],
    ["teleprospecting_queue", lead("automated_marketing_qualification"), false],
    ["teleprospecting_queue", lead("sales_acceptance", true), false],
    ["sales_ready", lead("sales_acceptance", true), true],
    ["sales_ready", lead("teleprospecting_qualification"), false],
    ["my_leads", lead("inquiry", false, "me"), true],
    ["my_leads", lead("inquiry", false, "someone else"), false],
    ["my_leads", lead("inquiry"), false],
  ] as Array<[BoardView, ReturnType<typeof lead>, boolean]>)("%s shows %j: %s", (view, card, expected) => {
    expect(leadInView(view, card, stages, "me")).toBe(expected);
  });
});

describe.each(drivers)("board views on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  const cookies: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const auth = server.app.services.auth;
    for (const role of ["admin", "salesperson", "telemarketer"] as const) {
      const u = await makeUser(auth, role);
      cookies[role] = await login(server.url, u.user.email);
      ids[role] = u.user.id;
      if (role === "admin") admin = u.actor;
    }
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  async function join(role: string, view?: BoardView) {
    const socket = connectSocket(server.url, cookies[role]);
    sockets.push(socket);
    const events = collectEvents(socket);
    await waitForConnect(socket);
    const ack = await request<BoardSnapshot>(socket, "board:join", view ? { view } : {});
    return { socket, events, ack };
  }

  it("gives a salesperson the sales-ready view by default and refuses them the whole board", async () => {
    const ready = await makeLead(t.database.db, server.app.services.leads, admin, { stage: "sales_acceptance", flags: { salesReady: true } });
    const notReady = await makeLead(t.database.db, server.app.services.leads, admin);
    const { ack } = await join("salesperson");
    if (!ack.ok) throw new Error(ack.error.message);
    expect(ack.data.view).toBe("sales_ready");
    const shown = ack.data.leads.map((l) => l.id);
    expect(shown).toContain(ready.id);
    expect(shown).not.toContain(notReady.id);
    expect(ack.data.leads.every((l) => l.salesReady)).toBe(true);
    const all = await join("salesperson", "all");
    expect(all.ack).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
  });

  it("keeps seqs contiguous in a view: changes outside it arrive as lead.left_view with no card", async () => {
    const lead = await makeLead(t.database.db, server.app.services.leads, admin, { stage: "automated_marketing_qualification" });
    const everyone = await join("admin");
    const sales = await join("salesperson");
    if (!everyone.ack.ok || !sales.ack.ok) throw new Error("join failed");
    const mover = everyone.socket;
    // AMQ → Inquiry: outside the sales-ready view.
    await request(mover, "lead:move", { leadId: lead.id, toStage: "inquiry", expectedVersion: lead.version });
    // Inquiry → sales acceptance ticks sales-ready: now inside it.
    const moved = await request<LeadCard>(mover, "lead:move", { leadId: lead.id, toStage: "sales_acceptance", expectedVersion: lead.version + 1 });
    expect(moved.ok).toBe(true);
    await until(() => sales.events.length === 2 && everyone.events.length === 2);
    expect(sales.events.map((e) => e.seq)).toEqual(everyone.events.map((e) => e.seq));
    expect(sales.events[0]).toEqual({
      boardId: sales.ack.data.boardId,
      seq: sales.ack.data.seq + 1,
      at: expect.any(String),
      actor: expect.objectContaining({ kind: "user" }),
      type: "lead.left_view",
      leadId: lead.id,
    });
    expect(sales.events[1]).toMatchObject({ type: "lead.moved", lead: { id: lead.id, salesReady: true } });
  });

  it("shows an owner their leads in My leads, and others only that something changed", async () => {
    const lead = await makeLead(t.database.db, server.app.services.leads, admin);
    const owner = await join("salesperson", "my_leads");
    const other = await join("telemarketer", "my_leads");
    await server.app.services.lifecycle.assign(admin, lead.id, { ownerId: ids.salesperson!, expectedVersion: lead.version }, new Date());
    await until(() => owner.events.length === 1 && other.events.length === 1);
    expect(owner.events[0]).toMatchObject({ type: "lead.updated", lead: { id: lead.id, ownerId: ids.salesperson } });
    expect(other.events[0]).toMatchObject({ type: "lead.left_view", leadId: lead.id });
    expect(other.events[0]).not.toHaveProperty("lead");
  });

  it("filters a resync by the socket's view", async () => {
    const teles = await join("telemarketer", "teleprospecting_queue");
    if (!teles.ack.ok) throw new Error("join failed");
    const lead = await makeLead(t.database.db, server.app.services.leads, admin, { stage: "automated_marketing_qualification" });
    await server.app.services.leads.move(admin, { leadId: lead.id, toStage: "teleprospecting_acceptance", expectedVersion: lead.version }, new Date());
    const ack = await request<ResyncResult>(teles.socket, "board:resync", { boardId: teles.ack.data.boardId, sinceSeq: teles.ack.data.seq });
    if (!ack.ok || !("events" in ack.data)) throw new Error("expected events");
    expect(ack.data.events.map((e) => e.type)).toEqual(["lead.left_view", "lead.moved"]);
    // A new connection (after a reconnect) names its view and gets the same filtered replay.
    const fresh = connectSocket(server.url, cookies.telemarketer);
    sockets.push(fresh);
    await waitForConnect(fresh);
    const again = await request<ResyncResult>(fresh, "board:resync", {
      boardId: teles.ack.data.boardId,
      sinceSeq: teles.ack.data.seq,
      view: "teleprospecting_queue",
    });
    expect(again).toEqual(ack);
    const refused = await request(connectSocketFor("salesperson"), "board:resync", {
      boardId: teles.ack.data.boardId,
      sinceSeq: 0,
      view: "all",
    });
    expect(refused).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
  });

  function connectSocketFor(role: string): TestSocket {
    const socket = connectSocket(server.url, cookies[role]);
    sockets.push(socket);
    return socket;
  }
});
