import { eq } from "drizzle-orm";
import { io as connect } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { displayTokens, leads } from "../../drizzle/schema.ts";
import type { BoardSnapshot, LeadCard } from "../../shared/board.ts";
import type { LeadFlag } from "../../shared/domain/stages.ts";
import type { DisplayTokenCreated } from "../../shared/schemas/display-tokens.ts";
import type { ProcessView } from "../../shared/schemas/processes.ts";
import type { WallFigures } from "../../shared/wall.ts";
import type { Actor } from "../../server/services/actor.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeUser } from "../support/builders.ts";
import { connectSocket, login, request, startTestServer, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";

/** The server's clock: a Wednesday afternoon. The wall's room is at UTC+1. */
const now = new Date("2025-03-12T15:00:00Z");
/** Midnight on Wednesday and on Monday in the room: 23:00 UTC the evening before. */
const dayStart = "2025-03-12T00:00:00+01:00";
const weekStart = "2025-03-10T00:00:00+01:00";
const at = (utc: string) => new Date(`2025-03-${utc}Z`);

describe.each(drivers)("wall figures on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  let adminCookie: string;
  let salesCookie: string;
  let process: ProcessView;
  const sockets: TestSocket[] = [];

  /** A lead of the test's process, or (elsewhere) of the default one. */
  const create = (topic: string, when: string, elsewhere = false) =>
    server.app.services.leads.create(admin, { topic, ...(elsewhere ? {} : { processId: process.id }) }, at(when));
  const move = (lead: LeadCard, toStage: string, when: string) =>
    server.app.services.leads.move(admin, { leadId: lead.id, toStage, expectedVersion: lead.version }, at(when));
  const flag = (lead: LeadCard, name: LeadFlag, value: boolean, when: string) =>
    server.app.services.lifecycle.setFlag(admin, lead.id, { flag: name, value, expectedVersion: lead.version }, at(when));

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database, undefined, { deps: { now: () => now, scoring: { autoStart: false } } });
    const a = await makeUser(server.app.services.auth, "admin");
    const s = await makeUser(server.app.services.auth, "salesperson");
    admin = a.actor;
    adminCookie = await login(server.url, a.user.email);
    salesCookie = await login(server.url, s.user.email);
    process = await server.app.services.processes.create(
      admin,
      { name: "Inbound", stages: ["new", "working", "qualified", "won"].map((key) => ({ key, name: key })) },
      at("01T00:00:00"),
    );

    // Times are UTC ("DDTHH:MM:SS"); the room's day began at 11T23:00, its week at 09T23:00.
    let l1 = await create("L1", "05T10:00:00");
    l1 = await move(l1, "working", "11T10:00:00");
    l1 = await move(l1, "qualified", "12T10:00:00");
    await flag(l1, "sales_ready", true, "12T11:00:00");

    let l2 = await create("L2", "11T09:00:00");
    l2 = await move(l2, "working", "11T10:00:00");
    l2 = await move(l2, "new", "11T11:00:00");
    await move(l2, "qualified", "12T09:00:00");

    // Sales-ready, then not, then again: counted once.
    let l3 = await create("L3", "12T08:00:00");
    l3 = await flag(l3, "sales_ready", true, "12T12:00:00");
    l3 = await flag(l3, "sales_ready", false, "12T12:30:00");
    await flag(l3, "sales_ready", true, "12T13:00:00");

    const l4 = await create("L4", "12T09:00:00");
    await move(l4, "won", "12T10:00:00");

    // A test lead counts nowhere.
    let l5 = await create("L5", "12T09:30:00");
    l5 = await move(l5, "working", "12T09:40:00");
    await flag(l5, "sales_ready", true, "12T09:50:00");
    await t.database.db.update(leads).set({ isTest: true }).where(eq(leads.id, l5.id));

    // Came in the week before; sales-ready yesterday.
    let l6 = await create("L6", "09T10:00:00");
    l6 = await move(l6, "working", "09T12:00:00");
    l6 = await move(l6, "qualified", "10T01:00:00");
    l6 = await flag(l6, "sales_ready", true, "11T12:00:00");
    await move(l6, "won", "12T14:00:00");

    let l7 = await create("L7", "10T12:00:00");
    l7 = await move(l7, "working", "10T13:00:00");
    await move(l7, "new", "10T14:00:00");

    await create("L9", "11T23:30:00"); // today in the room
    await create("L10", "11T22:30:00"); // yesterday in the room

    // Another board's leads do not count here.
    const elsewhere = await create("Default board", "12T10:00:00", true);
    await flag(elsewhere, "sales_ready", true, "12T10:30:00");
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  async function joined(socket: TestSocket, payload: object = { processId: process.id }): Promise<TestSocket> {
    sockets.push(socket);
    await waitForConnect(socket);
    const ack = await request<BoardSnapshot>(socket, "board:join", payload);
    if (!ack.ok) throw new Error(ack.error.message);
    return socket;
  }
  const figures = (socket: TestSocket, input: object = {}) =>
    request<WallFigures>(socket, "wall:figures", { boardId: process.boardId, dayStart, weekStart, ...input });

  const expected: WallFigures = {
    boardId: "",
    newToday: 3,
    salesReadyToday: 2,
    conversions: [
      { fromStage: "new", toStage: "working", entered: 6, advanced: 3, rate: 3 / 6 },
      { fromStage: "working", toStage: "qualified", entered: 3, advanced: 2, rate: 2 / 3 },
      { fromStage: "qualified", toStage: "won", entered: 3, advanced: 1, rate: 1 / 3 },
    ],
    at: now.toISOString(),
  };

  it("counts new leads today, sales-ready crossings today, and this week's conversions between stages", async () => {
    const socket = await joined(connectSocket(server.url, adminCookie));
    const ack = await figures(socket);
    expect(ack).toEqual({ ok: true, data: { ...expected, boardId: process.boardId } });
  });

  it("answers a wall display of the board the same, and records that the wall was seen", async () => {
    const res = await fetch(`${server.url}/api/display-tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: adminCookie },
      body: JSON.stringify({ name: "Inbound wall", screens: [{ processId: process.id, view: "sales_ready" }] }),
    });
    const { token, displayToken } = (await res.json()) as DisplayTokenCreated;
    await t.database.db.update(displayTokens).set({ lastSeenAt: null }).where(eq(displayTokens.id, displayToken.id));
    const wall = connect(server.url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { displayToken: token } });
    // The figures are board-wide, whatever view the wall shows.
    await joined(wall, { processId: process.id, view: "sales_ready" });
    expect(await figures(wall)).toEqual({ ok: true, data: { ...expected, boardId: process.boardId } });
    const [row] = await t.database.db.select().from(displayTokens).where(eq(displayTokens.id, displayToken.id));
    expect(row!.lastSeenAt).toEqual(now);
  });

  it("follows the board: an answer holds until the board's next event", async () => {
    const socket = await joined(connectSocket(server.url, adminCookie));
    expect((await figures(socket)).ok).toBe(true);
    const extra = await create("L11", "12T14:30:00");
    const ack = await figures(socket);
    expect(ack.ok && ack.data.newToday).toBe(4);
    expect(ack.ok && ack.data.conversions[0]).toEqual({ fromStage: "new", toStage: "working", entered: 7, advanced: 3, rate: 3 / 7 });

    // Changed behind the app's back (no event): the answer is reused, as the board's seq did not move.
    await t.database.db.update(leads).set({ isTest: true }).where(eq(leads.id, extra.id));
    await create("Elsewhere", "12T14:40:00", true); // another board's event changes nothing here
    const reused = await figures(socket);
    expect(reused.ok && reused.data.newToday).toBe(4);
    // The board's next event brings the change in.
    await flag(extra, "ready_for_teleprospecting", true, "12T14:50:00");
    expect(await figures(socket)).toEqual({ ok: true, data: { ...expected, boardId: process.boardId } });
  });

  it.each([
    ["a day start in the future", { dayStart: "2025-03-13T00:00:00+01:00" }, "dayStart"],
    ["a week start more than 8 days back", { weekStart: "2025-03-03T00:00:00+01:00" }, "weekStart"],
    ["a date without an offset", { dayStart: "2025-03-12T00:00:00" }, "dayStart"],
    ["no week start", { weekStart: undefined }, "weekStart"],
    ["an extra field", { view: "all" }, "(body)"],
  ])("rejects %s with INVALID_INPUT", async (_case, input, field) => {
    const socket = await joined(connectSocket(server.url, adminCookie));
    const ack = await figures(socket, input);
    expect(ack.ok).toBe(false);
    if (ack.ok) return;
    expect(ack.error.code).toBe("INVALID_INPUT");
    expect((ack.error.details as Array<{ field: string }>).map((d) => d.field)).toContain(field);
  });

  it("answers only for a board the socket joined, and not to salespeople (their role does not see the whole board)", async () => {
    const notJoined = connectSocket(server.url, adminCookie);
    sockets.push(notJoined);
    await waitForConnect(notJoined);
    const refused = await figures(notJoined);
    expect(refused.ok ? "answered" : refused.error.code).toBe("FORBIDDEN");

    const sales = await joined(connectSocket(server.url, salesCookie));
    const salesAck = await figures(sales);
    expect(salesAck.ok ? "answered" : salesAck.error.code).toBe("FORBIDDEN");
  });
});
