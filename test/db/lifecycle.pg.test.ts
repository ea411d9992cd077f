import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leads, opportunities, users } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import { conversionMessage, type LeadFlag } from "../../shared/domain/stages.ts";
import { DomainError } from "../../shared/errors.ts";
import type { Actor } from "../../server/services/actor.ts";
import { AuthService } from "../../server/services/auth-service.ts";
import { BoardService } from "../../server/services/board-service.ts";
import { LeadService } from "../../server/services/lead-service.ts";
import { LifecycleService } from "../../server/services/lifecycle-service.ts";
import * as contactsRepo from "../../server/repositories/contacts.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeContact, makeLead, makeUser } from "../support/builders.ts";
import { RecordingSink, rejection } from "../support/assertions.ts";

describe.each(drivers)("the lead lifecycle on %s", (driver) => {
  let t: TestDatabase;
  let sink: RecordingSink;
  let leadService: LeadService;
  let lifecycle: LifecycleService;
  let boards: BoardService;
  let auth: AuthService;
  let admin: Actor;
  let viewer: Actor;
  let boardId: string;
  const now = () => new Date();

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    sink = new RecordingSink();
    leadService = new LeadService(t.database.db, sink);
    lifecycle = new LifecycleService(t.database.db, sink);
    boards = new BoardService(t.database.db);
    auth = new AuthService(t.database.db);
    admin = (await makeUser(auth, "admin", "Ada Admin")).actor;
    viewer = (await makeUser(auth, "viewer")).actor;
    boardId = (await boards.resolveBoard(admin, {})).id;
  });
  afterAll(() => t?.close());

  const seq = async (id = boardId) => (await boards.snapshot(id, now())).seq;
  const history = async (leadId: string) => (await leadService.detail(leadId)).history;
  const lead = (options: Parameters<typeof makeLead>[3] = {}) => makeLead(t.database.db, leadService, admin, options);
  const stageData = async (leadId: string) =>
    (await t.database.db.select({ d: leads.stageData }).from(leads).where(eq(leads.id, leadId)))[0]!.d;

  const tick = (card: LeadCard, flag: LeadFlag, value = true, actor = admin, expectedVersion = card.version) =>
    lifecycle.setFlag(actor, card.id, { flag, value, expectedVersion }, now());
  const record = (card: LeadCard, values: Record<string, unknown>, options: { stage?: string; actor?: Actor; expectedVersion?: number } = {}) =>
    lifecycle.updateStageFields(
      options.actor ?? admin,
      card.id,
      { values, expectedVersion: options.expectedVersion ?? card.version, ...(options.stage ? { stage: options.stage } : {}) },
      now(),
    );

  /** Runs a failing command and checks that it changed neither the lead nor the board. */
  async function refusedWithoutChange(card: LeadCard, work: () => Promise<unknown>): Promise<DomainError> {
    const before = { seq: await seq(), events: sink.events.length, history: (await history(card.id)).length };
    const err = await rejection(work());
    expect(await leadService.get(card.id)).toEqual(card);
    expect(await seq()).toBe(before.seq);
    expect(sink.events.length).toBe(before.events);
    expect((await history(card.id)).length).toBe(before.history);
    return err;
  }

  describe("gate checkboxes", () => {
    it("ticking ready_for_teleprospecting in AMQ moves the lead on with one lead.moved and two history entries", async () => {
      const card = await lead({ stage: "automated_marketing_qualification" });
      const before = await seq();
      const historyBefore = (await history(card.id)).length;
      const flag = { flag: "ready_for_teleprospecting", value: true, expectedVersion: card.version, note: "called back" } as const;
      const moved = await lifecycle.setFlag(admin, card.id, flag, now());
      expect(moved).toMatchObject({ stage: "teleprospecting_acceptance", readyForTeleprospecting: true, version: card.version + 1 });
      expect(await seq()).toBe(before + 1);
      expect(sink.events.at(-1)).toMatchObject({
        type: "lead.moved",
        seq: before + 1,
        fromStage: "automated_marketing_qualification",
        toStage: "teleprospecting_acceptance",
        lead: { id: card.id, version: card.version + 1 },
      });
      const added = (await history(card.id)).slice(historyBefore);
      expect(added.map((h) => [h.kind, h.field, h.fromValue, h.toValue, h.fromStage, h.toStage, h.reason, h.note])).toEqual([
        ["flag", "ready_for_teleprospecting", false, true, null, null, "manual", "called back"],
        ["stage", null, null, null, "automated_marketing_qualification", "teleprospecting_acceptance", "gate", expect.any(String)],
      ]);
    });

    it("a moved lead lands at the bottom of its new column", async () => {
      const first = await lead({ stage: "teleprospecting_acceptance", flags: { readyForTeleprospecting: true } });
      const card = await lead({ stage: "automated_marketing_qualification" });
      const moved = await tick(card, "ready_for_teleprospecting");
      const column = (await boards.snapshot(boardId, now())).leads.filter((l) => l.stage === "teleprospecting_acceptance");
      expect(column.at(-1)?.id).toBe(moved.id);
      expect(moved.rank > (await leadService.get(first.id)).rank).toBe(true);
    });

    it("sales_ready in AMQ jumps straight to sales_acceptance", async () => {
      const card = await lead({ stage: "automated_marketing_qualification" });
      const moved = await tick(card, "sales_ready");
      expect(moved).toMatchObject({ stage: "sales_acceptance", salesReady: true, readyForTeleprospecting: false });
      expect(sink.events.at(-1)).toMatchObject({ type: "lead.moved", fromStage: "automated_marketing_qualification", toStage: "sales_acceptance" });
    });

    it("sales_ready as the gate of teleprospecting qualification advances to sales acceptance", async () => {
      const card = await lead({ stage: "teleprospecting_qualification", flags: { readyForTeleprospecting: true, teleprospectingAccepted: true } });
      const moved = await tick(card, "sales_ready");
      expect(moved.stage).toBe("sales_acceptance");
    });

    it("a flag that is not the stage's gate is recorded and sends lead.updated without moving", async () => {
      const card = await lead({ stage: "automated_marketing_qualification" });
      const before = await seq();
      const updated = await tick(card, "teleprospecting_accepted");
      expect(updated).toMatchObject({ stage: "automated_marketing_qualification", teleprospectingAccepted: true, version: card.version + 1 });
      expect(sink.events.at(-1)).toMatchObject({ type: "lead.updated", seq: before + 1, lead: { id: card.id } });
    });

    it("unticking changes no stage and is recorded", async () => {
      const card = await lead({ stage: "teleprospecting_acceptance", flags: { readyForTeleprospecting: true } });
      const updated = await tick(card, "ready_for_teleprospecting", false);
      expect(updated).toMatchObject({ stage: "teleprospecting_acceptance", readyForTeleprospecting: false, version: card.version + 1 });
      expect(sink.events.at(-1)).toMatchObject({ type: "lead.updated" });
      expect((await history(card.id)).at(-1)).toMatchObject({ kind: "flag", field: "ready_for_teleprospecting", fromValue: true, toValue: false });
    });

    it("setting a flag to the value it has is a no-op: same card, no event, no history", async () => {
      const card = await lead({ stage: "teleprospecting_acceptance", flags: { readyForTeleprospecting: true } });
      const before = { seq: await seq(), events: sink.events.length, history: (await history(card.id)).length };
      const same = await tick(card, "ready_for_teleprospecting");
      expect(same).toEqual(card);
      expect(await seq()).toBe(before.seq);
      expect(sink.events.length).toBe(before.events);
      expect((await history(card.id)).length).toBe(before.history);
    });

    it("a gate whose target needs what the lead lacks ticks the flag but keeps the lead in place", async () => {
      const card = await lead({ stage: "automated_marketing_qualification", withContact: false });
      const updated = await tick(card, "ready_for_teleprospecting");
      expect(updated).toMatchObject({ stage: "automated_marketing_qualification", readyForTeleprospecting: true });
      expect(sink.events.at(-1)).toMatchObject({ type: "lead.updated" });
    });

    it("refuses stale versions, viewers and unknown leads without changing anything", async () => {
      const card = await lead({ stage: "automated_marketing_qualification" });
      const stale = await refusedWithoutChange(card, () => tick(card, "ready_for_teleprospecting", true, admin, card.version + 1));
      expect(stale.code).toBe("CONFLICT");
      expect(stale.details).toMatchObject({ expectedVersion: card.version + 1, currentVersion: card.version, lead: { id: card.id } });
      const forbidden = await refusedWithoutChange(card, () => tick(card, "ready_for_teleprospecting", true, viewer));
      expect(forbidden.code).toBe("FORBIDDEN");
      const missing = await rejection(tick({ ...card, id: crypto.randomUUID() }, "sales_ready"));
      expect(missing.code).toBe("NOT_FOUND");
    });
  });

  describe("assignment", () => {
    it("assigns an active user, records who, and sends lead.updated; unassigning too", async () => {
      const { user: sally } = await makeUser(auth, "salesperson", "Sally Seller");
      const card = await lead();
      const before = await seq();
      const assigned = await lifecycle.assign(admin, card.id, { ownerId: sally.id, expectedVersion: card.version }, now());
      expect(assigned).toMatchObject({ ownerId: sally.id, version: card.version + 1 });
      expect(sink.events.at(-1)).toMatchObject({ type: "lead.updated", seq: before + 1, lead: { ownerId: sally.id } });
      expect((await history(card.id)).at(-1)).toMatchObject({
        kind: "assignment",
        fromValue: null,
        toValue: sally.id,
        note: "Sally Seller",
        actorId: admin.id,
      });
      const same = await lifecycle.assign(admin, card.id, { ownerId: sally.id, expectedVersion: assigned.version }, now());
      expect(same).toEqual(assigned);
      const unassigned = await lifecycle.assign(admin, card.id, { ownerId: null, expectedVersion: assigned.version }, now());
      expect(unassigned).toMatchObject({ ownerId: null, version: assigned.version + 1 });
      expect((await history(card.id)).at(-1)).toMatchObject({ kind: "assignment", fromValue: sally.id, toValue: null });
    });

    it("refuses inactive and unknown owners, other roles and stale versions without changing anything", async () => {
      const { user: gone } = await makeUser(auth, "salesperson");
      await t.database.db.update(users).set({ active: false }).where(eq(users.id, gone.id));
      const salesperson = (await makeUser(auth, "salesperson")).actor;
      const card = await lead();
      for (const ownerId of [gone.id, crypto.randomUUID()]) {
        const err = await refusedWithoutChange(card, () => lifecycle.assign(admin, card.id, { ownerId, expectedVersion: card.version }, now()));
        expect(err.code).toBe("INVALID_INPUT");
        expect(err.details).toEqual([{ field: "ownerId", message: expect.any(String) }]);
      }
      const forbidden = await refusedWithoutChange(card, () =>
        lifecycle.assign(salesperson, card.id, { ownerId: admin.id, expectedVersion: card.version }, now()),
      );
      expect(forbidden.code).toBe("FORBIDDEN");
      const stale = await refusedWithoutChange(card, () => lifecycle.assign(admin, card.id, { ownerId: admin.id, expectedVersion: 99 }, now()));
      expect(stale.code).toBe("CONFLICT");
    });
  });

  describe("stage fields", () => {
    const qualifying = () =>
      lead({ stage: "teleprospecting_qualification", flags: { readyForTeleprospecting: true, teleprospectingAccepted: true } });

    it("stores typed values under the stage key, records each change and sends lead.updated", async () => {
      const card = await qualifying();
      const before = await seq();
      const values = { budget: 25000, timeframe: "Next quarter", decision_maker: true, call_notes: "Wants a demo" };
      const updated = await record(card, values);
      expect(updated.version).toBe(card.version + 1);
      expect(sink.events.at(-1)).toMatchObject({ type: "lead.updated", seq: before + 1 });
      expect(await stageData(card.id)).toEqual({ teleprospecting_qualification: values });
      const fieldHistory = (await history(card.id)).filter((h) => h.kind === "field");
      expect(fieldHistory.map((h) => [h.field, h.fromValue, h.toValue])).toEqual([
        ["teleprospecting_qualification.budget", null, 25000],
        ["teleprospecting_qualification.timeframe", null, "Next quarter"],
        ["teleprospecting_qualification.decision_maker", null, true],
        ["teleprospecting_qualification.call_notes", null, "Wants a demo"],
      ]);

      // null clears; an unchanged value is no change; another stage is named by key.
      const { user: sally } = await makeUser(auth, "salesperson");
      const cleared = await record(updated, { budget: null, timeframe: "Next quarter" });
      const other = await record(cleared, { salesperson: sally.id, estimated_value: 1.5 }, { stage: "sales_acceptance" });
      expect(other.stage).toBe("teleprospecting_qualification");
      expect(await stageData(card.id)).toEqual({
        teleprospecting_qualification: { timeframe: "Next quarter", decision_maker: true, call_notes: "Wants a demo" },
        sales_acceptance: { salesperson: sally.id, estimated_value: 1.5 },
      });
      expect(await record(other, { decision_maker: true })).toEqual(other);
    });

    it("reports every bad value at once and changes nothing", async () => {
      const card = await qualifying();
      const bad = { budget: "lots", timeframe: "Someday", decision_maker: "yes", call_notes: "x".repeat(5001), colour: "red" };
      const err = await refusedWithoutChange(card, () => record(card, bad));
      expect(err.code).toBe("INVALID_INPUT");
      expect((err.details as Array<{ field: string }>).map((d) => d.field).sort()).toEqual([
        "values.budget",
        "values.call_notes",
        "values.colour",
        "values.decision_maker",
        "values.timeframe",
      ]);
      for (const budget of [Number.NaN, Number.POSITIVE_INFINITY]) {
        const notFinite = await refusedWithoutChange(card, () => record(card, { budget }));
        expect(notFinite.details).toEqual([{ field: "values.budget", message: "must be a number" }]);
      }
      const notUser = await refusedWithoutChange(card, () =>
        record(card, { salesperson: crypto.randomUUID() }, { stage: "sales_acceptance" }),
      );
      expect(notUser.details).toEqual([{ field: "values.salesperson", message: "is not a user" }]);
      const badStage = await refusedWithoutChange(card, () => record(card, { budget: 1 }, { stage: "won" }));
      expect(badStage).toMatchObject({ code: "INVALID_INPUT", details: [{ field: "stage", message: expect.stringContaining("inquiry") }] });
      const stale = await refusedWithoutChange(card, () => record(card, { budget: 1 }, { expectedVersion: card.version + 3 }));
      expect(stale.code).toBe("CONFLICT");
      const forbidden = await refusedWithoutChange(card, () => record(card, { budget: 1 }, { actor: viewer }));
      expect(forbidden.code).toBe("FORBIDDEN");
    });
  });

  describe("conversion", () => {
    it("is blocked without an owner and sales acceptance, then creates the opportunity", async () => {
      const account = await contactsRepo.insertAccount(t.database.db, { name: "Acme Corp" });
      const contact = await makeContact(t.database.db, { accountId: account.id });
      const created = await leadService.create(admin, { topic: "Fleet renewal", contactId: contact.id }, now());
      await t.database.db.update(leads).set({ stageId: (await boards.snapshot(boardId, now())).stages[4]!.id, salesReady: true }).where(eq(leads.id, created.id));
      let card = await leadService.get(created.id);

      const blocked = await refusedWithoutChange(card, () => lifecycle.convert(admin, card.id, { expectedVersion: card.version }, now()));
      expect(blocked.code).toBe("ILLEGAL_TRANSITION");
      expect(blocked.details).toEqual({ missing: ["sales_accepted", "has_owner"] });
      expect(blocked.message).toBe(conversionMessage(["sales_accepted", "has_owner"]));

      const { user: sally, actor: sallyActor } = await makeUser(auth, "salesperson", "Sally Seller");
      card = await lifecycle.assign(admin, card.id, { ownerId: sally.id, expectedVersion: card.version }, now());
      const stillBlocked = await refusedWithoutChange(card, () => lifecycle.convert(sallyActor, card.id, { expectedVersion: card.version }, now()));
      expect(stillBlocked.details).toEqual({ missing: ["sales_accepted"] });

      // sales_accepted is the last stage's gate: there is no next stage, so the lead stays.
      card = await tick(card, "sales_accepted");
      expect(card.stage).toBe("sales_acceptance");
      expect((await rejection(lifecycle.convert(viewer, card.id, { expectedVersion: card.version }, now()))).code).toBe("FORBIDDEN");

      const before = await seq();
      const result = await lifecycle.convert(sallyActor, card.id, { expectedVersion: card.version, estimatedValue: 12000 }, now());
      expect(result.opportunity).toMatchObject({
        leadId: card.id,
        name: "Fleet renewal - Acme Corp",
        contactId: contact.id,
        accountId: account.id,
        ownerId: sally.id,
        estimatedValue: 12000,
      });
      expect(result.lead).toMatchObject({ id: card.id, version: card.version + 1 });
      expect(sink.events.at(-1)).toMatchObject({ type: "lead.removed", reason: "converted", seq: before + 1, lead: { id: card.id } });
      const [row] = await t.database.db.select().from(leads).where(eq(leads.id, card.id));
      expect(row).toMatchObject({ status: "converted" });
      expect(row!.closedAt).not.toBeNull();
      expect((await history(card.id)).at(-1)).toMatchObject({ kind: "status", fromValue: "open", toValue: "converted" });
      expect((await boards.snapshot(boardId, now())).leads.some((l) => l.id === card.id)).toBe(false);
      expect(await t.database.db.select().from(opportunities).where(eq(opportunities.leadId, card.id))).toHaveLength(1);

      const again = await rejection(lifecycle.convert(sallyActor, card.id, { expectedVersion: result.lead.version }, now()));
      expect(again).toMatchObject({ code: "CONFLICT", message: "This lead was already converted" });
      const reopen = await rejection(lifecycle.reopen(admin, card.id, { expectedVersion: result.lead.version }, now()));
      expect(reopen.code).toBe("CONFLICT");
      const flag = await rejection(tick(result.lead, "sales_ready", false));
      expect(flag.code).toBe("CONFLICT");
    });

    it("names the opportunity after the contact when there is no company, or as asked", async () => {
      const card = await lead({ topic: "Trial" });
      await t.database.db.update(leads).set({ salesAccepted: true, ownerId: admin.id }).where(eq(leads.id, card.id));
      const current = await leadService.get(card.id);
      const { opportunity } = await lifecycle.convert(admin, card.id, { expectedVersion: current.version }, now());
      expect(opportunity).toMatchObject({ name: "Trial - Pat Tester", accountId: null, estimatedValue: null });
      const named = await lead();
      await t.database.db.update(leads).set({ salesAccepted: true, ownerId: admin.id }).where(eq(leads.id, named.id));
      const res = await lifecycle.convert(admin, named.id, { expectedVersion: 1, name: "Big deal" }, now());
      expect(res.opportunity.name).toBe("Big deal");
    });
  });

  describe("disqualify and reopen", () => {
    it("disqualifies with a reason, and reopens at the bottom of its stage", async () => {
      const card = await lead({ stage: "automated_marketing_qualification" });
      const before = await seq();
      const gone = await lifecycle.disqualify(admin, card.id, { reason: "Student", expectedVersion: card.version }, now());
      expect(gone.version).toBe(card.version + 1);
      expect(sink.events.at(-1)).toMatchObject({ type: "lead.removed", reason: "disqualified", seq: before + 1 });
      const [row] = await t.database.db.select().from(leads).where(eq(leads.id, card.id));
      expect(row).toMatchObject({ status: "disqualified", closedReason: "Student" });
      expect(row!.closedAt).toBeInstanceOf(Date);
      expect((await history(card.id)).at(-1)).toMatchObject({ kind: "status", toValue: "disqualified", note: "Student" });

      const again = await rejection(lifecycle.disqualify(admin, card.id, { reason: "x", expectedVersion: gone.version }, now()));
      expect(again).toMatchObject({ code: "CONFLICT", message: "This lead was already disqualified" });
      const edit = await rejection(lifecycle.assign(admin, card.id, { ownerId: null, expectedVersion: gone.version }, now()));
      expect(edit.code).toBe("CONFLICT");

      const newer = await lead({ stage: "automated_marketing_qualification" });
      const back = await lifecycle.reopen(admin, card.id, { expectedVersion: gone.version }, now());
      expect(back).toMatchObject({ stage: "automated_marketing_qualification", version: gone.version + 1 });
      expect(back.rank > newer.rank).toBe(true);
      expect(sink.events.at(-1)).toMatchObject({ type: "lead.created", lead: { id: card.id } });
      const [reopened] = await t.database.db.select().from(leads).where(eq(leads.id, card.id));
      expect(reopened).toMatchObject({ status: "open", closedReason: null, closedAt: null });
      const column = (await boards.snapshot(boardId, now())).leads.filter((l) => l.stage === "automated_marketing_qualification");
      expect(column.at(-1)?.id).toBe(card.id);
      const openAgain = await rejection(lifecycle.reopen(admin, card.id, { expectedVersion: back.version }, now()));
      expect(openAgain.code).toBe("CONFLICT");
    });

    it("refuses stale versions and roles without the right, changing nothing", async () => {
      const card = await lead();
      expect((await refusedWithoutChange(card, () => lifecycle.disqualify(viewer, card.id, { reason: "no", expectedVersion: 1 }, now()))).code).toBe("FORBIDDEN");
      expect((await refusedWithoutChange(card, () => lifecycle.disqualify(admin, card.id, { reason: "no", expectedVersion: 2 }, now()))).code).toBe("CONFLICT");
    });
  });
});
