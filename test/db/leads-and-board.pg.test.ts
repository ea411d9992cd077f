import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boardEvents, leads, stages } from "../../drizzle/schema.ts";
import { defaultProcessName } from "../../shared/domain/stages.ts";
import { DomainError } from "../../shared/errors.ts";
import type { Actor } from "../../server/services/actor.ts";
import { AuthService } from "../../server/services/auth-service.ts";
import { BoardService, maxReplayEvents } from "../../server/services/board-service.ts";
import { LeadService } from "../../server/services/lead-service.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeLead, makeUser } from "../support/builders.ts";
import { RecordingSink, rejection } from "../support/assertions.ts";

describe.each(drivers)("leads and the board event log on %s", (driver) => {
  let t: TestDatabase;
  let sink: RecordingSink;
  let leadService: LeadService;
  let boards: BoardService;
  let admin: Actor;
  let viewer: Actor;
  let boardId: string;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    sink = new RecordingSink();
    leadService = new LeadService(t.database.db, sink);
    boards = new BoardService(t.database.db);
    const auth = new AuthService(t.database.db);
    admin = (await makeUser(auth, "admin")).actor;
    viewer = (await makeUser(auth, "viewer")).actor;
    boardId = (await boards.resolveBoard(admin, {})).id;
  });
  afterAll(() => t?.close());

  const lastSeq = async () => (await boards.snapshot(boardId, new Date())).seq;

  it("has the default process with the contract's five stage keys", async () => {
    const snapshot = await boards.snapshot(boardId, new Date());
    expect(snapshot.processName).toBe(defaultProcessName);
    expect(snapshot.stages.map((s) => s.key)).toEqual([
      "inquiry",
      "automated_marketing_qualification",
      "teleprospecting_acceptance",
      "teleprospecting_qualification",
      "sales_acceptance",
    ]);
  });

  it("creating a lead appends lead.created with the next seq, in the same transaction", async () => {
    const before = await lastSeq();
    const card = await makeLead(t.database.db, leadService, admin);
    expect(card.stage).toBe("inquiry");
    expect(card.version).toBe(1);
    const published = sink.events.at(-1)!;
    expect(published).toMatchObject({ type: "lead.created", seq: before + 1, boardId, lead: { id: card.id } });
    const rows = await t.database.db.select().from(boardEvents).where(eq(boardEvents.seq, before + 1));
    expect(rows).toHaveLength(1);
    expect(await lastSeq()).toBe(before + 1);
  });

  it("moves a lead, bumps its version, records history and one event", async () => {
    const card = await makeLead(t.database.db, leadService, admin);
    const before = await lastSeq();
    const moved = await leadService.move(
      admin,
      { leadId: card.id, toStage: "automated_marketing_qualification", expectedVersion: card.version, reason: "called" },
      new Date(),
    );
    expect(moved).toMatchObject({ stage: "automated_marketing_qualification", version: card.version + 1 });
    // The move completes the card it read before placing the lead: it must equal a fresh read.
    expect(moved).toEqual(await leadService.get(card.id));
    expect(sink.events.at(-1)).toMatchObject({
      type: "lead.moved",
      seq: before + 1,
      fromStage: "inquiry",
      toStage: "automated_marketing_qualification",
      actor: { id: admin.id, kind: "user" },
    });
    const detail = await leadService.detail(card.id);
    expect(detail.history.map((h) => [h.fromStage, h.toStage, h.reason])).toEqual([
      [null, "inquiry", "manual"],
      ["inquiry", "automated_marketing_qualification", "manual"],
    ]);
    expect(detail.history[1]!.note).toBe("called");
  });

  it("a stale expectedVersion is a CONFLICT that changes nothing", async () => {
    const card = await makeLead(t.database.db, leadService, admin);
    await leadService.move(admin, { leadId: card.id, toStage: "automated_marketing_qualification", expectedVersion: 1 }, new Date());
    const before = await lastSeq();
    const err = await rejection(
      leadService.move(admin, { leadId: card.id, toStage: "inquiry", expectedVersion: 1 }, new Date()),
    );
    expect(err.code).toBe("CONFLICT");
    expect(err.details).toMatchObject({ expectedVersion: 1, currentVersion: 2, lead: { stage: "automated_marketing_qualification" } });
    expect((await leadService.get(card.id)).stage).toBe("automated_marketing_qualification");
    expect(await lastSeq()).toBe(before);
  });

  it("a gate that is not met is ILLEGAL_TRANSITION with what is missing, and changes nothing", async () => {
    const card = await makeLead(t.database.db, leadService, admin, { withContact: false });
    const before = await lastSeq();
    const err = await rejection(
      leadService.move(admin, { leadId: card.id, toStage: "sales_acceptance", expectedVersion: 1 }, new Date()),
    );
    expect(err.code).toBe("ILLEGAL_TRANSITION");
    expect(err.details).toEqual({ stage: "sales_acceptance", missing: ["has_parent"] });
    expect(await leadService.get(card.id)).toMatchObject({ stage: "inquiry", version: 1 });
    expect(await lastSeq()).toBe(before);
  });

  it("a drag past a gate ticks the gate, recorded in the history", async () => {
    const card = await makeLead(t.database.db, leadService, admin, { stage: "automated_marketing_qualification" });
    const moved = await leadService.move(admin, { leadId: card.id, toStage: "sales_acceptance", expectedVersion: card.version }, new Date());
    expect(moved).toMatchObject({ stage: "sales_acceptance", salesReady: true, readyForTeleprospecting: false });
    expect(moved).toEqual(await leadService.get(card.id));
    expect(sink.events.at(-1)).toMatchObject({ type: "lead.moved", lead: moved, flagsSet: ["sales_ready"] });
    const history = (await leadService.detail(card.id)).history.slice(-2);
    expect(history.map((h) => [h.kind, h.field, h.toValue, h.reason])).toEqual([
      ["flag", "sales_ready", true, "gate"],
      ["stage", null, null, "manual"],
    ]);
  });

  it("an override passes the gate for roles allowed to, and is recorded as such", async () => {
    const card = await makeLead(t.database.db, leadService, admin);
    const moved = await leadService.move(
      admin,
      { leadId: card.id, toStage: "teleprospecting_qualification", expectedVersion: 1, override: true },
      new Date(),
    );
    expect(moved.stage).toBe("teleprospecting_qualification");
    expect((await leadService.detail(card.id)).history.at(-1)?.reason).toBe("override");
  });

  it("refuses moves by viewers, overrides by others than managers, and unknown stages", async () => {
    const card = await makeLead(t.database.db, leadService, admin);
    const auth = new AuthService(t.database.db);
    const marketer = (await makeUser(auth, "marketer")).actor;
    expect((await rejection(leadService.move(viewer, { leadId: card.id, toStage: "inquiry", expectedVersion: 1 }, new Date()))).code).toBe("FORBIDDEN");
    expect(
      (await rejection(leadService.move(marketer, { leadId: card.id, toStage: "sales_acceptance", expectedVersion: 1, override: true }, new Date()))).code,
    ).toBe("FORBIDDEN");
    const unknown = await rejection(leadService.move(admin, { leadId: card.id, toStage: "won", expectedVersion: 1 }, new Date()));
    expect(unknown.code).toBe("INVALID_INPUT");
    expect(unknown.details).toEqual([{ field: "toStage", message: expect.stringContaining("inquiry") }]);
    expect((await rejection(leadService.move(admin, { leadId: crypto.randomUUID(), toStage: "inquiry", expectedVersion: 1 }, new Date()))).code).toBe("NOT_FOUND");
    expect(await leadService.get(card.id)).toMatchObject({ stage: "inquiry", version: 1 });
  });

  it("places a lead between the neighbours it was dropped between", async () => {
    const a = await makeLead(t.database.db, leadService, admin, { stage: "teleprospecting_acceptance", flags: { readyForTeleprospecting: true } });
    const b = await makeLead(t.database.db, leadService, admin);
    const c = await makeLead(t.database.db, leadService, admin);
    // Put a above b, and c between a and b, in the inquiry column.
    const movedA = await leadService.move(admin, { leadId: a.id, toStage: "inquiry", expectedVersion: a.version, beforeId: b.id }, new Date());
    await leadService.move(admin, { leadId: c.id, toStage: "inquiry", expectedVersion: c.version, afterId: movedA.id, beforeId: b.id }, new Date());
    const column = (await boards.snapshot(boardId, new Date())).leads.filter((l) => l.stage === "inquiry").map((l) => l.id);
    const order = [a.id, c.id, b.id].map((id) => column.indexOf(id));
    expect(order[0]).toBeLessThan(order[1]!);
    expect(order[1]).toBeLessThan(order[2]!);
    expect(order[2]! - order[0]!).toBe(2);
  });

  it("of concurrent moves of one lead at the same version, exactly one wins", async () => {
    const card = await makeLead(t.database.db, leadService, admin);
    const before = await lastSeq();
    const targets = ["automated_marketing_qualification", "inquiry", "automated_marketing_qualification", "inquiry"];
    const results = await Promise.allSettled(
      targets.map((toStage) => leadService.move(admin, { leadId: card.id, toStage, expectedVersion: 1 }, new Date())),
    );
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected").map((r) => (r.reason as DomainError).code);
    expect(won).toHaveLength(1);
    expect(lost).toEqual(["CONFLICT", "CONFLICT", "CONFLICT"]);
    expect((await leadService.get(card.id)).version).toBe(2);
    expect(await lastSeq()).toBe(before + 1);
  });

  it("hands out gapless seqs in commit order under concurrent writers", async () => {
    const before = await lastSeq();
    const published = sink.events.length;
    await Promise.all(Array.from({ length: 12 }, () => makeLead(t.database.db, leadService, admin)));
    const seqs = sink.events.slice(published).map((e) => e.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 12 }, (_, i) => before + 1 + i));
    const rows = await t.database.db.select({ seq: boardEvents.seq }).from(boardEvents).where(eq(boardEvents.boardId, boardId));
    expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
    expect(Math.max(...rows.map((r) => r.seq))).toBe(before + 12);
  });

  it("resync replays exactly the missed events, or sends a snapshot when too many were missed", async () => {
    const since = await lastSeq();
    const card = await makeLead(t.database.db, leadService, admin);
    await leadService.move(admin, { leadId: card.id, toStage: "automated_marketing_qualification", expectedVersion: 1 }, new Date());
    await leadService.move(admin, { leadId: card.id, toStage: "inquiry", expectedVersion: 2 }, new Date());
    const replay = await boards.resync(admin, { boardId, sinceSeq: since }, new Date());
    expect("events" in replay && replay.events.map((e) => [e.seq, e.type])).toEqual([
      [since + 1, "lead.created"],
      [since + 2, "lead.moved"],
      [since + 3, "lead.moved"],
    ]);
    expect(await boards.resync(admin, { boardId, sinceSeq: since + 3 }, new Date())).toEqual({ events: [] });
    const ahead = await boards.resync(admin, { boardId, sinceSeq: since + 1000 }, new Date());
    expect("snapshot" in ahead && ahead.snapshot.seq).toBe(since + 3);
    if (since + 3 > maxReplayEvents) {
      const old = await boards.resync(admin, { boardId, sinceSeq: 0 }, new Date());
      expect("snapshot" in old).toBe(true);
    }
  });

  it("shows a lead without contact or account as unscorable", async () => {
    const orphan = await makeLead(t.database.db, leadService, admin, { withContact: false });
    expect(orphan.scorable).toBe(false);
    const linked = await makeLead(t.database.db, leadService, admin);
    expect(linked.scorable).toBe(true);
  });

  it("keeps ranks in bytewise order in the database (COLLATE \"C\")", async () => {
    const [inquiry] = await t.database.db.select().from(stages).where(eq(stages.key, "inquiry"));
    const rows = await t.database.db.select({ rank: leads.rank }).from(leads).where(eq(leads.stageId, inquiry!.id)).orderBy(leads.rank);
    const ranks = rows.map((r) => r.rank);
    expect(ranks).toEqual([...ranks].sort());
  });
});
