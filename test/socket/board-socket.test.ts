import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BoardEvent, BoardSnapshot, LeadCard, ResyncResult } from "../../shared/board.ts";
import type { Actor } from "../../server/services/actor.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeLead, makeUser } from "../support/builders.ts";
import {
  collectEvents,
  connectSocket,
  login,
  request,
  startTestServer,
  until,
  waitForConnect,
  type TestServer,
  type TestSocket,
} from "../support/server.ts";

describe.each(drivers)("the live board over Socket.IO on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  let adminCookie: string;
  let viewerCookie: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const auth = server.app.services.auth;
    const a = await makeUser(auth, "admin", "Ada Admin");
    const v = await makeUser(auth, "viewer");
    admin = a.actor;
    adminCookie = await login(server.url, a.user.email);
    viewerCookie = await login(server.url, v.user.email);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  async function joined(cookie = adminCookie) {
    const socket = connectSocket(server.url, cookie);
    sockets.push(socket);
    const events = collectEvents(socket);
    await waitForConnect(socket);
    const ack = await request<BoardSnapshot>(socket, "board:join", {});
    if (!ack.ok) throw new Error(ack.error.message);
    return { socket, events, snapshot: ack.data };
  }

  const newLead = () => makeLead(t.database.db, server.app.services.leads, admin);

  it("refuses a connection without a session", async () => {
    const socket = connectSocket(server.url);
    sockets.push(socket);
    await expect(waitForConnect(socket)).rejects.toThrow("UNAUTHENTICATED");
    const forged = connectSocket(server.url, "lpb_session=forged");
    sockets.push(forged);
    await expect(waitForConnect(forged)).rejects.toThrow("UNAUTHENTICATED");
  });

  it("joins with a snapshot of the default board at a seq", async () => {
    const lead = await newLead();
    const { snapshot } = await joined();
    expect(snapshot.stages).toHaveLength(5);
    expect(snapshot.leads.find((l) => l.id === lead.id)).toMatchObject({ stage: "inquiry", version: 1 });
    expect(snapshot.seq).toBeGreaterThan(0);
  });

  it("a move by one client is acknowledged and reaches the other with seq one higher", async () => {
    const lead = await newLead();
    const alice = await joined();
    const bob = await joined();
    const ack = await request<LeadCard>(alice.socket, "lead:move", {
      leadId: lead.id,
      toStage: "automated_marketing_qualification",
      expectedVersion: 1,
    });
    expect(ack).toMatchObject({ ok: true, data: { id: lead.id, stage: "automated_marketing_qualification", version: 2 } });
    await until(() => bob.events.length === 1 && alice.events.length === 1);
    expect(bob.events[0]).toMatchObject({
      type: "lead.moved",
      seq: bob.snapshot.seq + 1,
      boardId: bob.snapshot.boardId,
      fromStage: "inquiry",
      toStage: "automated_marketing_qualification",
      actor: { name: "Ada Admin" },
      lead: { id: lead.id, version: 2 },
    });
    expect(alice.events[0]).toEqual(bob.events[0]);
  });

  it("a stale move gets CONFLICT with the current card, and nobody receives an event", async () => {
    const lead = await newLead();
    const alice = await joined();
    const bob = await joined();
    const first = await request<LeadCard>(alice.socket, "lead:move", {
      leadId: lead.id,
      toStage: "automated_marketing_qualification",
      expectedVersion: 1,
    });
    expect(first.ok).toBe(true);
    const stale = await request<LeadCard>(bob.socket, "lead:move", { leadId: lead.id, toStage: "inquiry", expectedVersion: 1 });
    expect(stale).toMatchObject({
      ok: false,
      error: { code: "CONFLICT", details: { currentVersion: 2, lead: { stage: "automated_marketing_qualification" } } },
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(bob.events.map((e) => e.seq)).toEqual([bob.snapshot.seq + 1]);
  });

  it("a gate that is not met is ILLEGAL_TRANSITION; a viewer's move is FORBIDDEN", async () => {
    const lead = await newLead();
    const alice = await joined();
    const illegal = await request(alice.socket, "lead:move", { leadId: lead.id, toStage: "teleprospecting_acceptance", expectedVersion: 1 });
    expect(illegal).toMatchObject({
      ok: false,
      error: { code: "ILLEGAL_TRANSITION", details: { missing: ["ready_for_teleprospecting"] } },
    });
    const viewer = await joined(viewerCookie);
    const forbidden = await request(viewer.socket, "lead:move", { leadId: lead.id, toStage: "inquiry", expectedVersion: 1 });
    expect(forbidden).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
    expect((await server.app.services.leads.get(lead.id)).version).toBe(1);
  });

  it.each([
    ["a missing payload", undefined],
    ["a string", "move it"],
    ["a bad lead id", { leadId: "nope", toStage: "inquiry", expectedVersion: 1 }],
    ["a missing version", { leadId: crypto.randomUUID(), toStage: "inquiry" }],
    ["an unknown field", { leadId: crypto.randomUUID(), toStage: "inquiry", expectedVersion: 1, force: true }],
  ])("answers %s with INVALID_INPUT and stays connected", async (_name, payload) => {
    const alice = await joined();
    const ack = await request(alice.socket, "lead:move", payload);
    expect(ack).toMatchObject({ ok: false, error: { code: "INVALID_INPUT" } });
    expect(alice.socket.connected).toBe(true);
    const again = await request(alice.socket, "board:resync", { boardId: alice.snapshot.boardId, sinceSeq: -1 });
    expect(again).toMatchObject({ ok: false, error: { code: "INVALID_INPUT", details: [{ field: "sinceSeq" }] } });
  });

  it("survives a command sent without an acknowledgement callback", async () => {
    const alice = await joined();
    alice.socket.emit("lead:move", { nonsense: true } as never, undefined as never);
    const ack = await request(alice.socket, "board:resync", { boardId: alice.snapshot.boardId, sinceSeq: alice.snapshot.seq });
    expect(ack).toEqual({ ok: true, data: { events: [] } });
  });

  it("a client disconnected while three moves happen gets exactly those three by board:resync", async () => {
    const lead = await newLead();
    const alice = await joined();
    const bob = await joined();
    const lastSeen = bob.snapshot.seq;
    bob.socket.disconnect();
    const steps = ["automated_marketing_qualification", "inquiry", "automated_marketing_qualification"];
    for (const [i, toStage] of steps.entries()) {
      const ack = await request(alice.socket, "lead:move", { leadId: lead.id, toStage, expectedVersion: i + 1 });
      expect(ack.ok).toBe(true);
    }
    const back = connectSocket(server.url, adminCookie);
    sockets.push(back);
    await waitForConnect(back);
    const ack = await request<ResyncResult>(back, "board:resync", { boardId: bob.snapshot.boardId, sinceSeq: lastSeen });
    expect(ack.ok).toBe(true);
    const events = ack.ok && "events" in ack.data ? ack.data.events : [];
    expect(events.map((e: BoardEvent) => e.seq)).toEqual([lastSeen + 1, lastSeen + 2, lastSeen + 3]);
    expect(events.map((e: BoardEvent) => (e.type === "lead.moved" ? e.toStage : e.type))).toEqual(steps);
    // After a resync the socket is in the board's room again and receives what follows.
    const later = collectEvents(back);
    await request(alice.socket, "lead:move", { leadId: lead.id, toStage: "inquiry", expectedVersion: 4 });
    await until(() => later.length === 1);
    expect(later[0]!.seq).toBe(lastSeen + 4);
  });

  it("delivers events in seq order to every viewer under concurrent moves", async () => {
    const leads = await Promise.all(Array.from({ length: 8 }, () => newLead()));
    const viewers = await Promise.all([joined(), joined(), joined()]);
    const start = viewers[0]!.snapshot.seq;
    await Promise.all(
      leads.map((lead, i) =>
        request(viewers[i % 3]!.socket, "lead:move", {
          leadId: lead.id,
          toStage: "automated_marketing_qualification",
          expectedVersion: 1,
        }),
      ),
    );
    for (const v of viewers) {
      await until(() => v.events.length === 8);
      expect(v.events.map((e) => e.seq)).toEqual(Array.from({ length: 8 }, (_, i) => start + 1 + i));
    }
  });
});
