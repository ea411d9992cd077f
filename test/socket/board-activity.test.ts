import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BoardActivity, BoardEvent, BoardEventDraft, BoardSnapshot, LeadCard, ResyncResult } from "../../shared/board.ts";
import type { BoardView } from "../../shared/domain/views.ts";
import type { Actor } from "../../server/services/actor.ts";
import { defaultActivityScanLimit } from "../../server/services/board-service.ts";
import { withBoardEvents } from "../../server/services/event-log.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeLead, makeUser } from "../support/builders.ts";
import { collectEvents, connectSocket, login, request, startTestServer, until, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";

const feedTypes = ["lead.created", "lead.moved", "lead.scored", "lead.removed"];

describe.each(drivers)("the board's activity feed on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  const cookies: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    for (const role of ["admin", "salesperson", "telemarketer"] as const) {
      const made = await makeUser(server.app.services.auth, role);
      cookies[role] = await login(server.url, made.user.email);
      ids[role] = made.user.id;
      if (role === "admin") admin = made.actor;
    }
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  async function connected(role: string) {
    const socket = connectSocket(server.url, cookies[role]);
    sockets.push(socket);
    await waitForConnect(socket);
    return socket;
  }

  async function joined(role: string, payload: { view?: BoardView; processId?: string } = {}) {
    const socket = await connected(role);
    const events = collectEvents(socket);
    const ack = await request<BoardSnapshot>(socket, "board:join", payload);
    if (!ack.ok) throw new Error(ack.error.message);
    return { socket, events, snapshot: ack.data };
  }

  async function activity(socket: TestSocket, payload: Record<string, unknown>): Promise<BoardActivity> {
    const ack = await request<BoardActivity>(socket, "board:activity", payload);
    if (!ack.ok) throw new Error(`${ack.error.code}: ${ack.error.message}`);
    return ack.data;
  }

  const lead = (options: Parameters<typeof makeLead>[3] = {}) => makeLead(t.database.db, server.app.services.leads, admin, options);
  const move = (card: LeadCard, toStage: string) =>
    server.app.services.leads.move(admin, { leadId: card.id, toStage, expectedVersion: card.version }, new Date());
  const leadIdOf = (e: BoardEvent) => ("lead" in e ? e.lead.id : e.type === "lead.left_view" ? e.leadId : null);

  it("lists new leads and moves newest first, with the board's seq, leaving out edits", async () => {
    const { socket, snapshot } = await joined("admin");
    const a = await lead({ topic: "Feed A" });
    const b = await lead({ topic: "Feed B", stage: "automated_marketing_qualification" });
    const moved = await move(b, "inquiry");
    // An assignment is a lead.updated: not in the feed.
    await server.app.services.lifecycle.assign(admin, a.id, { ownerId: ids.salesperson!, expectedVersion: a.version }, new Date());

    const feed = await activity(socket, { boardId: snapshot.boardId });
    const fresh = feed.events.filter((e) => e.seq > snapshot.seq);
    expect(fresh.map((e) => [e.type, leadIdOf(e)])).toEqual([
      ["lead.moved", b.id],
      ["lead.created", b.id],
      ["lead.created", a.id],
    ]);
    expect(fresh[0]).toMatchObject({ type: "lead.moved", fromStage: "automated_marketing_qualification", toStage: "inquiry", lead: { id: b.id, version: moved.version }, actor: { kind: "user" } });
    const seqs = feed.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => y - x));
    expect(feed.events.every((e) => feedTypes.includes(e.type))).toBe(true);
    // The seq is the board's: the assignment counts, so the feed's newest event is one behind.
    expect(feed.seq).toBe(snapshot.seq + 4);
    expect(fresh[0]!.seq).toBe(feed.seq - 1);
  });

  it("lists score changes and removals, and live events continue after its seq", async () => {
    const { socket, snapshot, events } = await joined("admin");
    const card = await lead({ topic: "Scored then dropped" });
    await withBoardEvents(t.database.db, server.app.fanout, new Date(), (_tx, log) =>
      log.append(snapshot.boardId, {
        type: "lead.scored",
        actor: { id: null, name: "Scoring", kind: "system" },
        lead: card,
        changes: [{ modelId: crypto.randomUUID(), modelName: "Web", from: null, to: 40, grade: "C", threshold: 100, crossedThreshold: false }],
        salesReadyMarked: false,
        moved: null,
      }),
    );
    await server.app.services.lifecycle.disqualify(admin, card.id, { reason: "Spam", expectedVersion: card.version }, new Date());
    const feed = await activity(socket, { boardId: snapshot.boardId, limit: 3 });
    expect(feed.events.map((e) => e.type)).toEqual(["lead.removed", "lead.scored", "lead.created"]);
    expect(feed.events[0]).toMatchObject({ reason: "disqualified", lead: { id: card.id } });

    const next = await lead({ topic: "After the feed" });
    await until(() => events.some((e) => e.seq === feed.seq + 1));
    expect(events.find((e) => e.seq === feed.seq + 1)).toMatchObject({ type: "lead.created", lead: { id: next.id } });
  });

  it("pages back with beforeSeq and limit, 30 by default, without gaps or repeats", async () => {
    const { socket, snapshot } = await joined("admin");
    for (let i = 0; i < 33; i++) await lead({ topic: `Page ${i}` });
    const first = await activity(socket, { boardId: snapshot.boardId });
    expect(first.events).toHaveLength(30);
    const whole = await activity(socket, { boardId: snapshot.boardId, limit: 100 });
    const pages: BoardEvent[] = [];
    let beforeSeq: number | undefined;
    for (;;) {
      const page = await activity(socket, { boardId: snapshot.boardId, limit: 7, ...(beforeSeq ? { beforeSeq } : {}) });
      expect(page.seq).toBe(whole.seq);
      pages.push(...page.events);
      if (page.events.length < 7) break;
      beforeSeq = page.events.at(-1)!.seq;
    }
    expect(pages.map((e) => e.seq)).toEqual(whole.events.map((e) => e.seq));
    expect(first.events).toEqual(whole.events.slice(0, 30));
    const older = await activity(socket, { boardId: snapshot.boardId, beforeSeq: whole.events[4]!.seq, limit: 2 });
    expect(older.events).toEqual(whole.events.slice(5, 7));
    expect((await activity(socket, { boardId: snapshot.boardId, beforeSeq: 1 })).events).toEqual([]);
  });

  it("filters for the socket's view exactly as a resync does: a salesperson sees only sales-ready leads", async () => {
    const sales = await joined("salesperson");
    expect(sales.snapshot.view).toBe("sales_ready");
    const notReady = await lead({ topic: "Not ready", stage: "automated_marketing_qualification" });
    const ready = await lead({ topic: "Ready" });
    const arrived = await move(ready, "sales_acceptance");
    await move(notReady, "inquiry");
    await server.app.services.lifecycle.disqualify(admin, arrived.id, { reason: "Lost", expectedVersion: arrived.version }, new Date());

    const feed = await activity(sales.socket, { boardId: sales.snapshot.boardId, limit: 100 });
    const resync = await request<ResyncResult>(sales.socket, "board:resync", { boardId: sales.snapshot.boardId, sinceSeq: sales.snapshot.seq });
    if (!resync.ok || !("events" in resync.data)) throw new Error("expected a replay");
    const expected = resync.data.events.filter((e) => feedTypes.includes(e.type)).reverse();
    const fresh = feed.events.filter((e) => e.seq > sales.snapshot.seq);
    expect(fresh).toEqual(expected);
    expect(fresh.map((e) => [e.type, leadIdOf(e)])).toEqual([["lead.moved", ready.id]]);
    expect(feed.events.every((e) => "lead" in e && e.lead.salesReady)).toBe(true);
    expect(feed.events.some((e) => leadIdOf(e) === notReady.id)).toBe(false);

    // Everyone else's feed has it all.
    const everyone = await joined("admin");
    const all = await activity(everyone.socket, { boardId: everyone.snapshot.boardId, limit: 100 });
    expect(all.events.filter((e) => e.seq > sales.snapshot.seq).map((e) => e.type)).toEqual(["lead.removed", "lead.moved", "lead.moved", "lead.created", "lead.created"]);
  });

  it("shows My leads only the owner's leads, and the teleprospecting queue only its stages", async () => {
    const mine = await joined("salesperson", { view: "my_leads" });
    const queue = await joined("telemarketer", { view: "teleprospecting_queue" });
    const owned = await lead({ topic: "Owned" });
    const assigned = await server.app.services.lifecycle.assign(admin, owned.id, { ownerId: ids.salesperson!, expectedVersion: owned.version }, new Date());
    await move(assigned, "automated_marketing_qualification");
    const called = await lead({ topic: "To call", stage: "automated_marketing_qualification", flags: { readyForTeleprospecting: true } });
    await move(called, "teleprospecting_acceptance");

    const minePage = await activity(mine.socket, { boardId: mine.snapshot.boardId, limit: 100 });
    expect(minePage.events.filter((e) => e.seq > mine.snapshot.seq).map((e) => [e.type, leadIdOf(e)])).toEqual([["lead.moved", owned.id]]);
    const queuePage = await activity(queue.socket, { boardId: queue.snapshot.boardId, limit: 100 });
    expect(queuePage.events.filter((e) => e.seq > queue.snapshot.seq).map((e) => [e.type, leadIdOf(e)])).toEqual([["lead.moved", called.id]]);
  });

  it("reads a bounded part of the log per request: a sparse view gets what was found and where to go on", async () => {
    const other = await server.app.services.processes.create(admin, { name: "Long log", stages: [{ key: "one", name: "One" }] }, new Date());
    const card = await lead({ topic: "Template" });
    const moved = (salesReady: boolean, ownerId: string | null): BoardEventDraft => ({
      type: "lead.moved",
      actor: { id: admin.id, name: "Ada", kind: "user" },
      lead: { ...card, salesReady, ownerId },
      fromStage: "one",
      toStage: "one",
    });
    const ready = () => moved(true, ids.salesperson!);
    // Oldest first: two sales-ready moves, more than one bound's worth of others, one sales-ready move.
    const filler = Array.from({ length: defaultActivityScanLimit + 500 }, () => moved(false, null));
    const appended = await withBoardEvents(t.database.db, server.app.fanout, new Date(), (_tx, log) =>
      log.appendAll(other.boardId, [ready(), ready(), ...filler, ready()]),
    );
    const readySeqs = [appended.at(-1)!.seq, appended[1]!.seq, appended[0]!.seq];

    const sales = await joined("salesperson", { processId: other.id });
    expect(sales.snapshot.view).toBe("sales_ready");
    const first = await activity(sales.socket, { boardId: other.boardId });
    // Short (one event of 30) yet not the end: the read stopped one bound back.
    expect(first.events.map((e) => e.seq)).toEqual([readySeqs[0]]);
    expect(first.nextBeforeSeq).toBe(readySeqs[0]! - defaultActivityScanLimit + 1);
    const second = await activity(sales.socket, { boardId: other.boardId, beforeSeq: first.nextBeforeSeq });
    expect(second.events.map((e) => e.seq)).toEqual(readySeqs.slice(1));
    expect(second.nextBeforeSeq).toBeUndefined();

    // "My leads" reads the owner's index: all three in one page, nothing said to follow.
    const mine = await joined("salesperson", { processId: other.id, view: "my_leads" });
    const mineFeed = await activity(mine.socket, { boardId: other.boardId });
    expect(mineFeed.events.map((e) => e.seq)).toEqual(readySeqs);
    expect(mineFeed.nextBeforeSeq).toBeUndefined();

    // Everything matches in the "all" view: full pages, each saying where the next starts.
    const everyone = await joined("admin", { processId: other.id });
    const page = await activity(everyone.socket, { boardId: other.boardId, limit: 100 });
    expect(page.events).toHaveLength(100);
    expect(page.nextBeforeSeq).toBe(page.events.at(-1)!.seq);
    const oldest = await activity(everyone.socket, { boardId: other.boardId, beforeSeq: readySeqs[1]! + 1 });
    expect(oldest.events.map((e) => e.seq)).toEqual(readySeqs.slice(1));
    expect(oldest.nextBeforeSeq).toBeUndefined();
  });

  it("refuses a board the socket has not joined, and bad input, with a clear error", async () => {
    const stranger = await connected("admin");
    const { snapshot } = await joined("admin");
    const notJoined = await request<BoardActivity>(stranger, "board:activity", { boardId: snapshot.boardId });
    expect(notJoined).toEqual({ ok: false, error: { code: "FORBIDDEN", message: "Join this board before asking for its activity" } });
    const unknown = await request<BoardActivity>(stranger, "board:activity", { boardId: crypto.randomUUID() });
    expect(unknown).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });

    // Joined one board, asking about another: still not joined.
    const other = await server.app.services.processes.create(admin, { name: "Other board", stages: [{ key: "one", name: "One" }] }, new Date());
    const onOther = await joined("admin", { processId: other.id });
    expect(await request(onOther.socket, "board:activity", { boardId: snapshot.boardId })).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
    expect(await activity(onOther.socket, { boardId: other.boardId })).toEqual({ events: [], seq: onOther.snapshot.seq });

    const { socket } = await joined("admin");
    for (const [payload, field] of [
      [{ boardId: "nope" }, "boardId"],
      [{ boardId: snapshot.boardId, limit: 0 }, "limit"],
      [{ boardId: snapshot.boardId, limit: 101 }, "limit"],
      [{ boardId: snapshot.boardId, limit: 2.5 }, "limit"],
      [{ boardId: snapshot.boardId, beforeSeq: 0 }, "beforeSeq"],
      [{ boardId: snapshot.boardId, since: 3 }, "(body)"],
      [null, "(body)"],
    ] as const) {
      const ack = await request(socket, "board:activity", payload);
      expect(ack).toMatchObject({ ok: false, error: { code: "INVALID_INPUT", details: [expect.objectContaining({ field })] } });
    }
  });
});
