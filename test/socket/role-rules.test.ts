import { eq } from "drizzle-orm";
import { io as connect } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { auditLog, leads } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import type { Role } from "../../shared/schemas/common.ts";
import { findDefaultBoard } from "../../server/repositories/boards.ts";
import type { Actor } from "../../server/services/actor.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeLead, makeUser } from "../support/builders.ts";
import { connectSocket, login, request, startTestServer, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";

interface ErrorAnswer {
  error: { code: string; message: string; details?: unknown };
}
type Caller = Role | "writeKey";

const AMQ = "automated_marketing_qualification";
const TA = "teleprospecting_acceptance";
const TQ = "teleprospecting_qualification";
const SA = "sales_acceptance";

/**
 * The rules beyond the matrix (shared/domain/role-rules.ts): each gate's own action, on a
 * tick and on a drag; overrides audited; salespeople limited to sales-ready leads and their
 * own; telemarketers to the teleprospecting stages; write keys move but never tick or override.
 */
describe.each(drivers)("role rules on leads on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  const ids: Partial<Record<Role, string>> = {};
  const cookies: Partial<Record<Role, string>> = {};
  let writeKey: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    for (const role of ["admin", "marketer", "telemarketer", "sales_manager", "salesperson", "viewer"] as const) {
      const { user, actor } = await makeUser(server.app.services.auth, role, `Test ${role}`);
      ids[role] = user.id;
      cookies[role] = await login(server.url, user.email);
      if (role === "admin") admin = actor;
    }
    const key = await call<{ key: string }>("admin", "POST", "/api-keys", { name: "CRM sync", scopes: ["write"] });
    writeKey = key.json.key;
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  async function call<T>(who: Caller, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const auth: Record<string, string> = who === "writeKey" ? { authorization: `Bearer ${writeKey}` } : { cookie: cookies[who]! };
    const res = await fetch(`${server.url}/api${path}`, {
      method,
      headers: { ...auth, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as T };
  }

  async function socketOf(who: Caller): Promise<TestSocket> {
    const socket: TestSocket =
      who === "writeKey"
        ? connect(server.url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { token: writeKey } })
        : connectSocket(server.url, cookies[who]);
    sockets.push(socket);
    await waitForConnect(socket);
    return socket;
  }

  const newLead = (options: Parameters<typeof makeLead>[3] = {}) => makeLead(t.database.db, server.app.services.leads, admin, options);
  const setColumns = (leadId: string, values: Partial<typeof leads.$inferInsert>) =>
    t.database.db.update(leads).set(values).where(eq(leads.id, leadId));
  const overrides = (leadId: string) => t.database.db.select().from(auditLog).where(eq(auditLog.targetId, leadId));

  /** Everything a refused command must leave as it was: the card (version, stage, flags), history, seq, audit. */
  async function stateOf(leadId: string) {
    const detail = await server.app.services.leads.detail(leadId);
    const board = await findDefaultBoard(t.database.db);
    return { detail, seq: board!.lastSeq, audit: (await overrides(leadId)).length };
  }

  async function expectRefused(leadId: string, refuse: () => Promise<{ status: number; json: unknown }>, code: string, message?: RegExp) {
    const before = await stateOf(leadId);
    const res = await refuse();
    expect(res).toMatchObject({ status: code === "NOT_FOUND" ? 404 : 403, json: { error: { code } } });
    if (message) expect((res.json as ErrorAnswer).error.message).toMatch(message);
    expect(await stateOf(leadId)).toEqual(before);
    return res.json as ErrorAnswer;
  }

  const flag = (who: Caller, lead: LeadCard, name: string, value = true) =>
    call<LeadCard>(who, "POST", `/leads/${lead.id}/flags`, { flag: name, value, expectedVersion: lead.version });
  const move = (who: Caller, lead: LeadCard, toStage: string, override?: boolean) =>
    call<LeadCard>(who, "POST", `/leads/${lead.id}/move`, { toStage, expectedVersion: lead.version, ...(override ? { override } : {}) });
  const socketMove = async (who: Caller, lead: LeadCard, toStage: string) => {
    const ack = await request<LeadCard>(await socketOf(who), "lead:move", { leadId: lead.id, toStage, expectedVersion: lead.version });
    return ack.ok ? { status: 200, json: ack.data } : { status: ack.error.code === "NOT_FOUND" ? 404 : 403, json: { error: ack.error } };
  };

  describe("gates", () => {
    it("a gate checkbox takes its own gate action, to tick and to untick", async () => {
      const lead = await newLead({ stage: SA, flags: { salesReady: true } });
      const refused = await expectRefused(lead.id, () => flag("marketer", lead, "sales_accepted"), "FORBIDDEN", /"sales accepted" \(gate\.sales_accepted\)/);
      expect(refused.error.details).toEqual({ gate: "sales_accepted" });
      await expectRefused(lead.id, () => flag("salesperson", lead, "sales_ready", false), "FORBIDDEN", /gate\.sales_ready/);
      const ticked = await flag("salesperson", lead, "sales_accepted");
      expect(ticked).toMatchObject({ status: 200, json: { salesAccepted: true, version: lead.version + 1 } });
      await expectRefused(lead.id, () => flag("marketer", ticked.json, "sales_accepted", false), "FORBIDDEN");
      expect(await flag("sales_manager", ticked.json, "sales_accepted", false)).toMatchObject({ status: 200, json: { salesAccepted: false } });
    });

    it("only telemarketers (and admins) accept for teleprospecting, by checkbox or by drag", async () => {
      const lead = await newLead({ stage: TA, flags: { readyForTeleprospecting: true } });
      await expectRefused(lead.id, () => flag("sales_manager", lead, "teleprospecting_accepted"), "FORBIDDEN");
      const refused = await expectRefused(lead.id, () => socketMove("marketer", lead, TQ), "FORBIDDEN", /gate\.teleprospecting_accepted/);
      expect(refused.error.details).toEqual({ stage: TQ, gate: "teleprospecting_accepted" });
      const moved = await socketMove("telemarketer", lead, TQ);
      expect(moved).toMatchObject({ status: 200, json: { stage: TQ, teleprospectingAccepted: true } });
      const history = (await server.app.services.leads.detail(lead.id)).history.slice(-2);
      expect(history.map((h) => [h.kind, h.field, h.reason, h.actorName])).toEqual([
        ["flag", "teleprospecting_accepted", "gate", "Test telemarketer"],
        ["stage", null, "manual", "Test telemarketer"],
      ]);
    });

    it("a drag that would mark a lead sales-ready needs that gate; one whose gate is met does not", async () => {
      const own = await newLead({ stage: AMQ });
      await setColumns(own.id, { ownerId: ids.salesperson! });
      const lead = await server.app.services.leads.get(own.id);
      await expectRefused(lead.id, () => move("salesperson", lead, SA), "FORBIDDEN", /gate\.sales_ready/);
      await setColumns(lead.id, { salesReady: true });
      expect(await move("salesperson", await server.app.services.leads.get(lead.id), SA)).toMatchObject({ status: 200, json: { stage: SA } });
    });
  });

  describe("overrides", () => {
    it("an override that skips a gate writes exactly one audit entry, with the move", async () => {
      const lead = await newLead({ topic: "Skipped ahead" });
      const moved = await move("sales_manager", lead, TQ, true);
      expect(moved).toMatchObject({ status: 200, json: { stage: TQ, teleprospectingAccepted: false } });
      const entries = await overrides(lead.id);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        action: "lead.gate_overridden",
        actorId: ids.sales_manager,
        actorName: "Test sales_manager",
        actorKind: "user",
        targetType: "lead",
        targetId: lead.id,
        targetName: "Skipped ahead",
        details: { fromStage: "inquiry", toStage: TQ, missing: ["teleprospecting_accepted"] },
      });
      expect((await server.app.services.leads.detail(lead.id)).history.at(-1)).toMatchObject({ reason: "override" });
    });

    it("an override leaves unticked a gate its mover may not tick, and records it as skipped", async () => {
      const lead = await newLead({ stage: TA, flags: { readyForTeleprospecting: true } });
      expect(await move("sales_manager", lead, TQ, true)).toMatchObject({ status: 200, json: { stage: TQ, teleprospectingAccepted: false } });
      expect((await overrides(lead.id)).map((e) => e.details)).toEqual([{ fromStage: TA, toStage: TQ, missing: ["teleprospecting_accepted"] }]);
    });

    it("an override that skipped nothing is an ordinary move: no audit entry", async () => {
      const lead = await newLead({ stage: AMQ });
      expect(await move("admin", lead, TA, true)).toMatchObject({ status: 200, json: { stage: TA, readyForTeleprospecting: true } });
      expect(await overrides(lead.id)).toEqual([]);
      expect((await server.app.services.leads.detail(lead.id)).history.at(-1)).toMatchObject({ reason: "manual" });
    });

    it("a refused or failed override writes nothing", async () => {
      const lead = await newLead();
      await expectRefused(lead.id, () => move("marketer", lead, TQ, true), "FORBIDDEN", /lead\.override_gate/);
      await expectRefused(lead.id, () => move("telemarketer", lead, TQ, true), "FORBIDDEN");
      const before = await stateOf(lead.id);
      const stale = await call<ErrorAnswer>("sales_manager", "POST", `/leads/${lead.id}/move`, { toStage: TQ, expectedVersion: 9, override: true });
      expect(stale).toMatchObject({ status: 409, json: { error: { code: "CONFLICT" } } });
      expect(await stateOf(lead.id)).toEqual(before);
    });
  });

  describe("API keys with the write scope", () => {
    it("move leads where no gate is ticked, over HTTP and the socket", async () => {
      const lead = await newLead();
      const moved = await move("writeKey", lead, AMQ);
      expect(moved).toMatchObject({ status: 200, json: { stage: AMQ } });
      expect(await socketMove("writeKey", moved.json, "inquiry")).toMatchObject({ status: 200, json: { stage: "inquiry" } });
    });

    it("never tick a gate, never override", async () => {
      const lead = await newLead({ stage: AMQ });
      await expectRefused(lead.id, () => flag("writeKey", lead, "ready_for_teleprospecting"), "FORBIDDEN", /API key .*gate\.ready_for_teleprospecting/);
      await expectRefused(lead.id, () => move("writeKey", lead, TA), "FORBIDDEN", /gate\.ready_for_teleprospecting/);
      await expectRefused(lead.id, () => socketMove("writeKey", lead, SA), "FORBIDDEN", /gate\.sales_ready/);
      await expectRefused(lead.id, () => move("writeKey", lead, TA, true), "FORBIDDEN", /lead\.override_gate/);
    });
  });

  describe("telemarketers work the teleprospecting stages", () => {
    it("pull a lead into teleprospecting and pass a qualified one on to sales", async () => {
      const lead = await newLead({ stage: AMQ });
      const pulled = await socketMove("telemarketer", lead, TA);
      expect(pulled).toMatchObject({ status: 200, json: { stage: TA, readyForTeleprospecting: true } });
      const qualified = await newLead({ stage: TQ, flags: { readyForTeleprospecting: true, teleprospectingAccepted: true } });
      expect(await move("telemarketer", qualified, SA)).toMatchObject({ status: 200, json: { stage: SA, salesReady: true } });
      const ticked = await newLead({ stage: AMQ });
      expect(await flag("telemarketer", ticked, "ready_for_teleprospecting")).toMatchObject({ status: 200, json: { stage: TA } });
    });

    it("refuse their moves and gates outside those stages", async () => {
      const lead = await newLead();
      const rule = /^Telemarketers work the teleprospecting stages/;
      await expectRefused(lead.id, () => move("telemarketer", lead, AMQ), "FORBIDDEN", rule);
      await expectRefused(lead.id, () => socketMove("telemarketer", lead, "inquiry"), "FORBIDDEN", rule);
      const nurtured = await newLead({ stage: AMQ });
      await expectRefused(nurtured.id, () => move("telemarketer", nurtured, SA), "FORBIDDEN", rule);
      // Sales-ready in AMQ jumps straight to Sales acceptance, past the telemarketers' stages.
      await expectRefused(nurtured.id, () => flag("telemarketer", nurtured, "sales_ready"), "FORBIDDEN", rule);
      expect(await move("marketer", nurtured, SA)).toMatchObject({ status: 200 });
    });
  });

  describe("salespeople see sales-ready leads and their own", () => {
    let hidden: LeadCard;
    let ready: LeadCard;
    let mine: LeadCard;
    let others: LeadCard;
    const tag = `visibility-${driver}`;

    beforeAll(async () => {
      hidden = await newLead({ topic: `${tag} hidden`, stage: AMQ });
      ready = await newLead({ topic: `${tag} ready`, stage: SA, flags: { salesReady: true } });
      mine = await newLead({ topic: `${tag} mine`, stage: AMQ });
      others = await newLead({ topic: `${tag} others`, stage: AMQ });
      await setColumns(mine.id, { ownerId: ids.salesperson! });
      await setColumns(others.id, { ownerId: ids.sales_manager! });
    });

    it("lists only those, filtered before paging", async () => {
      const list = (who: Caller, query = "") => call<LeadCard[]>(who, "GET", `/leads?q=${tag}${query}`);
      expect((await list("admin")).json.map((l) => l.id).sort()).toEqual([hidden.id, ready.id, mine.id, others.id].sort());
      const visible = (await list("salesperson")).json.map((l) => l.id);
      expect(visible.sort()).toEqual([ready.id, mine.id].sort());
      const pages = await Promise.all([0, 1, 2].map((offset) => list("salesperson", `&limit=1&offset=${offset}`)));
      expect(pages.map((p) => p.json.length)).toEqual([1, 1, 0]);
      expect(pages.flatMap((p) => p.json.map((l) => l.id)).sort()).toEqual(visible.sort());
      expect((await call<unknown[]>("salesperson", "GET", "/contacts?limit=5")).status).toBe(200);
    });

    it("reads the detail and scores of those, and of no other lead", async () => {
      const unknown = await call<ErrorAnswer>("salesperson", "GET", `/leads/${crypto.randomUUID()}`);
      for (const path of [`/leads/${hidden.id}`, `/leads/${others.id}`, `/leads/${hidden.id}/scores`]) {
        const res = await call<ErrorAnswer>("salesperson", "GET", path);
        expect(res).toEqual({ status: 404, json: unknown.json });
      }
      for (const lead of [ready, mine]) {
        expect(await call("salesperson", "GET", `/leads/${lead.id}`)).toMatchObject({ status: 200, json: { id: lead.id } });
        expect((await call("salesperson", "GET", `/leads/${lead.id}/scores`)).status).toBe(200);
      }
      expect((await call("admin", "GET", `/leads/${hidden.id}`)).status).toBe(200);
    });

    it("any command on a lead they cannot see is NOT_FOUND and changes nothing, even with a stale version", async () => {
      const target = await server.app.services.leads.get(hidden.id);
      const other = await call<{ id: string }>("admin", "POST", "/processes", { name: `${tag} other`, stages: [{ key: "start", name: "Start" }] });
      const commands: Array<[string, string, Record<string, unknown>]> = [
        ["PATCH", "", { topic: "Renamed" }],
        ["POST", "/flags", { flag: "sales_accepted", value: true }],
        ["POST", "/stage-fields", { values: { meets_minimum_criteria: true }, stage: TA }],
        ["POST", "/convert", {}],
        ["POST", "/disqualify", { reason: "Not for us" }],
        ["POST", "/process", { processId: other.json.id }],
        ["POST", "/move", { toStage: SA }],
      ];
      for (const [method, path, body] of commands) {
        for (const expectedVersion of [target.version, target.version + 5]) {
          await expectRefused(target.id, () => call("salesperson", method, `/leads/${target.id}${path}`, { ...body, expectedVersion }), "NOT_FOUND");
        }
      }
      await expectRefused(target.id, () => socketMove("salesperson", target, SA), "NOT_FOUND");
      // Commands the role never has are refused as such, before the lead is looked at.
      await expectRefused(target.id, () => call("salesperson", "POST", `/leads/${target.id}/assign`, { ownerId: null, expectedVersion: 1 }), "FORBIDDEN");

      const closed = await newLead({ stage: AMQ });
      const disqualified = await server.app.services.lifecycle.disqualify(admin, closed.id, { reason: "Test", expectedVersion: closed.version }, new Date());
      await expectRefused(closed.id, () => call("salesperson", "POST", `/leads/${closed.id}/reopen`, { expectedVersion: disqualified.version }), "NOT_FOUND");
    });

    it("work their own leads and sales-ready ones", async () => {
      const renamed = await call<LeadCard>("salesperson", "PATCH", `/leads/${mine.id}`, { topic: `${tag} mine, renamed`, expectedVersion: mine.version });
      expect(renamed).toMatchObject({ status: 200, json: { topic: `${tag} mine, renamed` } });
      mine = renamed.json;
      expect(await flag("salesperson", ready, "sales_accepted")).toMatchObject({ status: 200, json: { salesAccepted: true } });
    });
  });
});
