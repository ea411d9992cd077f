import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { boards as boardsTable, leads, stages as stagesTable } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import { defaultProcessName, defaultStages } from "../../shared/domain/stages.ts";
import { DomainError } from "../../shared/errors.ts";
import type { ProcessView, StageEditInput } from "../../shared/schemas/processes.ts";
import type { Actor } from "../../server/services/actor.ts";
import { AuthService } from "../../server/services/auth-service.ts";
import { BoardService } from "../../server/services/board-service.ts";
import { LeadService } from "../../server/services/lead-service.ts";
import { LifecycleService } from "../../server/services/lifecycle-service.ts";
import { ProcessService } from "../../server/services/process-service.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeContact, makeLead, makeUser } from "../support/builders.ts";
import { RecordingSink, rejection } from "../support/assertions.ts";

/** The stage list of a view as edit entries that keep every stage as it is. */
const keepAll = (view: ProcessView): StageEditInput[] =>
  view.stages.map((s) => ({
    id: s.id,
    key: s.key,
    name: s.name,
    entryRequirements: s.entryRequirements,
    fields: s.fields,
    gateFlag: s.gateFlag,
    salesReadyJump: s.salesReadyJump,
    timeLimits: s.timeLimits,
  }));

describe.each(drivers)("business processes on %s", (driver) => {
  let t: TestDatabase;
  let sink: RecordingSink;
  let leadService: LeadService;
  let lifecycle: LifecycleService;
  let processes: ProcessService;
  let boards: BoardService;
  let admin: Actor;
  let marketer: Actor;
  let viewer: Actor;
  const now = () => new Date();

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    sink = new RecordingSink();
    leadService = new LeadService(t.database.db, sink);
    lifecycle = new LifecycleService(t.database.db, sink);
    processes = new ProcessService(t.database.db, sink);
    boards = new BoardService(t.database.db);
    const auth = new AuthService(t.database.db);
    admin = (await makeUser(auth, "admin")).actor;
    marketer = (await makeUser(auth, "marketer")).actor;
    viewer = (await makeUser(auth, "viewer")).actor;
  });
  afterAll(() => t?.close());

  const seq = async (boardId: string) => (await boards.snapshot(boardId, now())).seq;

  const makeProcess = (name: string, keys: string[]) =>
    processes.create(admin, { name, stages: keys.map((key) => ({ key, name: key.replace(/_/g, " ") })) }, now());

  const makeProcessAs = (actor: Actor) => processes.create(actor, { name: "Nope", stages: [{ key: "one", name: "One" }] }, now());

  /** An open lead with a contact, appended to a stage of any process (the test processes have no gates). */
  async function leadIn(process: ProcessView, stageKey: string): Promise<LeadCard> {
    const contact = await makeContact(t.database.db);
    const card = await leadService.create(admin, { topic: `In ${stageKey}`, contactId: contact.id, processId: process.id }, now());
    if (card.stage === stageKey) return card;
    return leadService.move(admin, { leadId: card.id, toStage: stageKey, expectedVersion: card.version }, now());
  }

  it("lists the default process first with its stages and board, and reads one by id", async () => {
    const list = await processes.list(viewer);
    expect(list[0]).toMatchObject({ name: defaultProcessName, isDefault: true, version: 1, conversionRequirements: ["sales_accepted", "has_owner"] });
    expect(list[0]!.stages.map((s) => s.key)).toEqual(defaultStages.map((s) => s.key));
    expect(list[0]!.boardId).toBe((await boards.resolveBoard(viewer, {})).id);
    expect(await processes.get(viewer, list[0]!.id)).toEqual(list[0]);
    expect((await rejection(processes.get(viewer, crypto.randomUUID()))).code).toBe("NOT_FOUND");
  });

  it("creates a process with its stages in order and an empty board", async () => {
    const created = await processes.create(
      admin,
      {
        name: "Events follow-up",
        conversionRequirements: ["has_owner"],
        stages: [
          { key: "registered", name: "Registered" },
          {
            key: "attended",
            name: "Attended",
            entryRequirements: ["has_parent"],
            gateFlag: "sales_ready",
            fields: [{ key: "session", label: "Session", type: "choice", options: ["Keynote", "Workshop"] }],
          },
          { key: "qualified", name: "Qualified", entryRequirements: ["has_parent", "sales_ready"] },
        ],
      },
      now(),
    );
    expect(created).toMatchObject({ name: "Events follow-up", isDefault: false, version: 1, conversionRequirements: ["has_owner"] });
    expect(created.stages.map((s) => [s.key, s.position, s.gateFlag, s.salesReadyJump])).toEqual([
      ["registered", 0, null, false],
      ["attended", 1, "sales_ready", false],
      ["qualified", 2, null, false],
    ]);
    expect(created.stages[1]!.fields).toEqual([{ key: "session", label: "Session", type: "choice", options: ["Keynote", "Workshop"] }]);
    const [board] = await t.database.db.select().from(boardsTable).where(eq(boardsTable.processId, created.id));
    expect(board).toMatchObject({ id: created.boardId, lastSeq: 0 });
    const snapshot = await boards.snapshot((await boards.resolveBoard(viewer, { processId: created.id })).id, now());
    expect(snapshot).toMatchObject({ processName: "Events follow-up", seq: 0, leads: [] });
    expect((await processes.list(admin)).map((p) => p.id)).toContain(created.id);
  });

  it("only admins manage processes", async () => {
    expect((await rejection(makeProcessAs(marketer))).code).toBe("FORBIDDEN");
    const [first] = await processes.list(admin);
    const err = await rejection(processes.update(viewer, first!.id, { expectedVersion: first!.version, name: "Mine" }, now()));
    expect(err.code).toBe("FORBIDDEN");
    expect((await processes.get(admin, first!.id)).version).toBe(first!.version);
  });

  it("renames, reorders and adds stages in one edit, ending with one stages.changed", async () => {
    const p = await makeProcess("Reorder me", ["alpha", "beta", "gamma"]);
    const lead = await leadIn(p, "beta");
    const before = await seq(p.boardId);
    const [alpha, beta, gamma] = p.stages;
    const updated = await processes.update(
      admin,
      p.id,
      {
        expectedVersion: 1,
        name: "Reordered",
        conversionRequirements: ["has_owner"],
        stages: [
          { id: gamma!.id, key: "gamma", name: "Gamma first" },
          { key: "delta", name: "Delta (new)", entryRequirements: ["has_parent"] },
          // Keys may move between kept stages: parking under temporary keys keeps the unique index happy.
          { id: alpha!.id, key: "beta", name: "Alpha renamed to beta" },
          { id: beta!.id, key: "alpha", name: "Beta renamed to alpha" },
        ],
      },
      now(),
    );
    expect(updated).toMatchObject({ name: "Reordered", version: 2, conversionRequirements: ["has_owner"] });
    expect(updated.stages.map((s) => [s.key, s.position])).toEqual([
      ["gamma", 0],
      ["delta", 1],
      ["beta", 2],
      ["alpha", 3],
    ]);
    expect(updated.stages[2]!.id).toBe(alpha!.id);
    expect(await seq(p.boardId)).toBe(before + 1);
    expect(sink.events.at(-1)).toEqual({
      type: "stages.changed",
      boardId: p.boardId,
      seq: before + 1,
      at: expect.any(String),
      actor: { id: admin.id, name: admin.name, kind: "user" },
      processName: "Reordered",
      stages: updated.stages,
    });
    // The lead stays in its stage row, which now has another key.
    expect(await leadService.get(lead.id)).toMatchObject({ stageId: beta!.id, stage: "alpha", version: lead.version });
  });

  it("an entry is the whole stage: the same entries change nothing, omitted settings take their defaults", async () => {
    const [defaults] = await processes.list(admin);
    const same = await processes.update(admin, defaults!.id, { expectedVersion: defaults!.version, stages: keepAll(defaults!) }, now());
    expect(same.stages).toEqual(defaults!.stages);
    expect(same.version).toBe(defaults!.version + 1);
    const p = await processes.create(
      admin,
      {
        name: "Settings",
        stages: [
          {
            key: "only",
            name: "Only",
            entryRequirements: ["has_owner"],
            gateFlag: "sales_ready",
            salesReadyJump: true,
            fields: [{ key: "notes", label: "Notes", type: "text" }],
          },
        ],
      },
      now(),
    );
    const bare = await processes.update(admin, p.id, { expectedVersion: 1, stages: [{ id: p.stages[0]!.id, key: "only", name: "Only" }] }, now());
    expect(bare.stages[0]).toMatchObject({ id: p.stages[0]!.id, entryRequirements: [], gateFlag: null, salesReadyJump: false, fields: [] });
  });

  it("removing a stage that has leads needs a mapping, and changes nothing without one", async () => {
    const p = await makeProcess("Shrink me", ["one", "two", "three"]);
    await leadIn(p, "two");
    const before = await seq(p.boardId);
    const withoutTwo = keepAll(p).filter((s) => s.key !== "two");
    const err = await rejection(processes.update(admin, p.id, { expectedVersion: 1, stages: withoutTwo }, now()));
    expect(err.code).toBe("INVALID_INPUT");
    expect(err.details).toEqual([{ field: "moveLeadsTo.two", message: expect.stringContaining('"two"') }]);
    const bad = await rejection(
      processes.update(admin, p.id, { expectedVersion: 1, stages: withoutTwo, moveLeadsTo: { two: "two", one: "three" } }, now()),
    );
    expect(bad.details).toEqual([
      { field: "moveLeadsTo.two", message: expect.stringContaining("not a stage of the new list") },
      { field: "moveLeadsTo.one", message: "is not a removed stage" },
    ]);
    expect(await processes.get(admin, p.id)).toEqual(p);
    expect(await seq(p.boardId)).toBe(before);
  });

  it("moves the leads of removed stages, in order, to the bottom of their new stage", async () => {
    const p = await makeProcess("Merge me", ["new_lead", "working", "nurture", "done"]);
    const staying = await leadIn(p, "working");
    const a = await leadIn(p, "nurture");
    const b = await leadIn(p, "nurture");
    const c = await leadIn(p, "done");
    const closed = await leadIn(p, "done");
    await lifecycle.disqualify(admin, closed.id, { reason: "duplicate", expectedVersion: closed.version }, now());
    const before = await seq(p.boardId);
    const [newLead, working] = p.stages;
    const updated = await processes.update(
      admin,
      p.id,
      {
        expectedVersion: 1,
        stages: [
          { id: newLead!.id, key: "new_lead", name: "New" },
          { id: working!.id, key: "working", name: "Working" },
          { key: "won", name: "Won" },
        ],
        moveLeadsTo: { nurture: "working", done: "won" },
      },
      now(),
    );
    const won = updated.stages.find((s) => s.key === "won")!;
    const published = sink.events.slice(-4);
    expect(published.map((e) => [e.seq, e.type, "fromStage" in e ? `${e.fromStage}>${e.toStage}` : null])).toEqual([
      [before + 1, "lead.moved", "nurture>working"],
      [before + 2, "lead.moved", "nurture>working"],
      [before + 3, "lead.moved", "done>won"],
      [before + 4, "stages.changed", null],
    ]);
    expect(published.slice(0, 3).map((e) => ("lead" in e ? e.lead.id : null))).toEqual([a.id, b.id, c.id]);
    const column = (await boards.snapshot(p.boardId, now())).leads.filter((l) => l.stage === "working").map((l) => l.id);
    expect(column).toEqual([staying.id, a.id, b.id]);
    expect(await leadService.get(c.id)).toMatchObject({ stageId: won.id, version: c.version + 1 });
    expect((await leadService.detail(a.id)).history.at(-1)).toMatchObject({
      kind: "stage",
      fromStage: null,
      toStage: "working",
      fromValue: "nurture",
      reason: "manual",
      note: "stage removed",
    });
    // The disqualified lead went along silently, so it can be reopened into a stage that exists.
    const [closedRow] = await t.database.db.select().from(leads).where(eq(leads.id, closed.id));
    expect(closedRow!.stageId).toBe(won.id);
    const reopened = await lifecycle.reopen(admin, closed.id, { expectedVersion: closedRow!.version }, now());
    expect(reopened.stage).toBe("won");
    expect(await t.database.db.select().from(stagesTable).where(eq(stagesTable.processId, p.id))).toHaveLength(3);
  });

  it("moves closed leads of a removed stage without a mapping to the first stage", async () => {
    const p = await makeProcess("Closed only", ["first", "second"]);
    const card = await leadIn(p, "second");
    await lifecycle.disqualify(admin, card.id, { reason: "spam", expectedVersion: card.version }, now());
    const updated = await processes.update(admin, p.id, { expectedVersion: 1, stages: keepAll(p).slice(0, 1) }, now());
    expect(updated.stages.map((s) => s.key)).toEqual(["first"]);
    const [row] = await t.database.db.select().from(leads).where(eq(leads.id, card.id));
    expect(row!.stageId).toBe(p.stages[0]!.id);
    expect(sink.events.at(-1)!.type).toBe("stages.changed");
  });

  it("a stale expectedVersion is a CONFLICT that changes nothing", async () => {
    const p = await makeProcess("Versioned", ["only"]);
    await processes.update(admin, p.id, { expectedVersion: 1, name: "Versioned 2" }, now());
    const before = await seq(p.boardId);
    const err = await rejection(processes.update(admin, p.id, { expectedVersion: 1, name: "Versioned 3" }, now()));
    expect(err.code).toBe("CONFLICT");
    expect(err.details).toMatchObject({ expectedVersion: 1, currentVersion: 2, process: { name: "Versioned 2" } });
    expect(await seq(p.boardId)).toBe(before);
    expect((await rejection(processes.update(admin, crypto.randomUUID(), { expectedVersion: 1 }, now()))).code).toBe("NOT_FOUND");
  });

  it("the default process keeps its five contract stage keys", async () => {
    const [defaults] = await processes.list(admin);
    const before = await seq(defaults!.boardId);
    const err = await rejection(
      processes.update(admin, defaults!.id, { expectedVersion: defaults!.version, stages: keepAll(defaults!).slice(0, 4) }, now()),
    );
    expect(err.code).toBe("INVALID_INPUT");
    expect(err.details).toEqual([{ field: "stages", message: expect.stringContaining("sales_acceptance") }]);
    expect(await seq(defaults!.boardId)).toBe(before);
    // Renaming and adding stages is fine.
    const stages = keepAll(defaults!).map((s) => (s.key === "inquiry" ? { ...s, name: "New inquiry" } : s));
    const updated = await processes.update(
      admin,
      defaults!.id,
      { expectedVersion: defaults!.version, stages: [...stages, { key: "nurture_later", name: "Nurture later" }] },
      now(),
    );
    expect(updated.stages.map((s) => s.key)).toEqual([...defaultStages.map((s) => s.key), "nurture_later"]);
    expect(updated.stages[0]!.name).toBe("New inquiry");
  });

  it("refuses stage ids of another process and mappings without a stage list", async () => {
    const p = await makeProcess("Mine", ["x"]);
    const other = await makeProcess("Other", ["y"]);
    const err = await rejection(
      processes.update(admin, p.id, { expectedVersion: 1, stages: [{ id: other.stages[0]!.id, key: "x", name: "X" }] }, now()),
    );
    expect(err.details).toEqual([{ field: "stages.0.id", message: "is not a stage of this process" }]);
    const mapping = await rejection(processes.update(admin, p.id, { expectedVersion: 1, moveLeadsTo: { x: "x" } }, now()));
    expect(mapping.details).toEqual([{ field: "moveLeadsTo.x", message: "is not a removed stage" }]);
    expect((await processes.get(admin, other.id)).stages).toEqual(other.stages);
  });

  describe("switching a lead to another process", () => {
    let partner: ProcessView;
    let defaultBoardId: string;
    let defaultProcessId: string;
    const lead = (options: Parameters<typeof makeLead>[3] = {}) => makeLead(t.database.db, leadService, admin, options);
    const history = async (leadId: string) => (await leadService.detail(leadId)).history;

    /** Runs a failing switch and checks that it changed neither the lead nor either board. */
    async function refusedWithoutChange(card: LeadCard, work: () => Promise<unknown>): Promise<DomainError> {
      const before = [await seq(defaultBoardId), await seq(partner.boardId), sink.events.length];
      const err = await rejection(work());
      expect(await leadService.get(card.id)).toEqual(card);
      expect([await seq(defaultBoardId), await seq(partner.boardId), sink.events.length]).toEqual(before);
      return err;
    }

    beforeAll(async () => {
      ({ id: defaultBoardId, processId: defaultProcessId } = await boards.resolveBoard(admin, {}));
      partner = await processes.create(
        admin,
        {
          name: "Partner referrals",
          stages: [
            { key: "referral", name: "Referral" },
            { key: "partner_review", name: "Partner review", entryRequirements: ["has_parent", "sales_ready"] },
          ],
        },
        now(),
      );
    });

    it("leaves the old board and joins the new one in its first stage", async () => {
      const card = await lead({ stage: "automated_marketing_qualification" });
      const seqs = { old: await seq(defaultBoardId), new: await seq(partner.boardId) };
      const switched = await lifecycle.switchProcess(admin, card.id, { processId: partner.id, expectedVersion: card.version }, now());
      expect(switched).toMatchObject({ processId: partner.id, stage: "referral", version: card.version + 1 });
      expect(await seq(defaultBoardId)).toBe(seqs.old + 1);
      expect(await seq(partner.boardId)).toBe(seqs.new + 1);
      expect(sink.events.slice(-2)).toMatchObject([
        { type: "lead.removed", reason: "process_changed", boardId: defaultBoardId, seq: seqs.old + 1 },
        { type: "lead.created", boardId: partner.boardId, seq: seqs.new + 1, lead: { stage: "referral" } },
      ]);
      expect((await history(card.id)).at(-1)).toMatchObject({
        kind: "process",
        fromStage: "automated_marketing_qualification",
        toStage: "referral",
        fromValue: card.processId,
        toValue: partner.id,
      });
      expect((await boards.snapshot(partner.boardId, now())).leads.map((l) => l.id)).toContain(card.id);
    });

    it("checks the target stage's entry requirements", async () => {
      const card = await lead();
      const toReview = { processId: partner.id, toStage: "partner_review", expectedVersion: card.version };
      const err = await refusedWithoutChange(card, () => lifecycle.switchProcess(admin, card.id, toReview, now()));
      expect(err).toMatchObject({ code: "ILLEGAL_TRANSITION", details: { stage: "partner_review", missing: ["sales_ready"] } });
      const ready = await lead({ flags: { salesReady: true } });
      const ok = await lifecycle.switchProcess(admin, ready.id, { processId: partner.id, toStage: "partner_review", expectedVersion: ready.version }, now());
      expect(ok.stage).toBe("partner_review");
    });

    it("refuses unknown processes and stages, the same process, stale versions and viewers", async () => {
      const card = await lead();
      const cases: Array<[Parameters<LifecycleService["switchProcess"]>[2], Actor, string]> = [
        [{ processId: crypto.randomUUID(), expectedVersion: 1 }, admin, "INVALID_INPUT"],
        [{ processId: partner.id, toStage: "nowhere", expectedVersion: 1 }, admin, "INVALID_INPUT"],
        [{ processId: card.processId, expectedVersion: 1 }, admin, "INVALID_INPUT"],
        [{ processId: partner.id, expectedVersion: 2 }, admin, "CONFLICT"],
        [{ processId: partner.id, expectedVersion: 1 }, viewer, "FORBIDDEN"],
      ];
      for (const [input, actor, code] of cases) {
        expect((await refusedWithoutChange(card, () => lifecycle.switchProcess(actor, card.id, input, now()))).code).toBe(code);
      }
    });

    it("opposite switches at the same time both succeed (boards are locked in a fixed order)", async () => {
      const here = await Promise.all(Array.from({ length: 4 }, () => lead()));
      const there = await Promise.all(Array.from({ length: 4 }, () => lead()));
      const moved = await Promise.all(
        there.map((c) => lifecycle.switchProcess(admin, c.id, { processId: partner.id, expectedVersion: c.version }, now())),
      );
      const results = await Promise.allSettled([
        ...here.map((c) => lifecycle.switchProcess(admin, c.id, { processId: partner.id, expectedVersion: c.version }, now())),
        ...moved.map((c) => lifecycle.switchProcess(admin, c.id, { processId: defaultProcessId, expectedVersion: c.version }, now())),
      ]);
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    });
  });
});
