import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BoardSnapshot, LeadCard } from "../../shared/board.ts";
import type { Opportunity } from "../../shared/schemas/lifecycle.ts";
import type { ProcessView } from "../../shared/schemas/processes.ts";
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

interface ErrorAnswer {
  error: { code: string; message: string; details?: unknown };
}

describe.each(drivers)("lifecycle and process endpoints with live viewers on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  let adminCookie: string;
  let viewerCookie: string;
  let sallyId: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const auth = server.app.services.auth;
    const a = await makeUser(auth, "admin", "Ada Admin");
    const v = await makeUser(auth, "viewer");
    sallyId = (await makeUser(auth, "salesperson", "Sally Seller")).user.id;
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

  async function api<T>(method: string, path: string, body?: unknown, cookie = adminCookie): Promise<{ status: number; json: T }> {
    const res = await fetch(`${server.url}/api${path}`, {
      method,
      headers: { cookie, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as T };
  }

  /** A real socket.io client that joined a board (the default one unless a process is named). */
  async function viewerOf(processId?: string, cookie = adminCookie) {
    const socket = connectSocket(server.url, cookie);
    sockets.push(socket);
    const events = collectEvents(socket);
    await waitForConnect(socket);
    const ack = await request<BoardSnapshot>(socket, "board:join", processId ? { processId } : {});
    if (!ack.ok) throw new Error(ack.error.message);
    return { socket, events, snapshot: ack.data };
  }

  const newLead = (options: Parameters<typeof makeLead>[3] = {}) => makeLead(t.database.db, server.app.services.leads, admin, options);

  it("a gate tick moves the lead: the answer is the card, and both viewers get one lead.moved", async () => {
    const lead = await newLead({ stage: "automated_marketing_qualification" });
    const alice = await viewerOf();
    const bob = await viewerOf(undefined, viewerCookie);
    const res = await api<LeadCard>("POST", `/leads/${lead.id}/flags`, {
      flag: "ready_for_teleprospecting",
      value: true,
      expectedVersion: lead.version,
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: lead.id, stage: "teleprospecting_acceptance", version: lead.version + 1 });
    await until(() => alice.events.length === 1 && bob.events.length === 1);
    expect(bob.events[0]).toMatchObject({
      type: "lead.moved",
      seq: bob.snapshot.seq + 1,
      fromStage: "automated_marketing_qualification",
      toStage: "teleprospecting_acceptance",
      actor: { name: "Ada Admin" },
      lead: res.json,
      flagsSet: ["ready_for_teleprospecting"],
    });
    expect(alice.events).toEqual(bob.events);
    await new Promise((r) => setTimeout(r, 100));
    expect(bob.events).toHaveLength(1);
  });

  it("names the flags a change set: a tick that stays, an untick that names none, a move past a gate", async () => {
    const lead = await newLead({ stage: "sales_acceptance", flags: { salesReady: true } });
    const other = await newLead({ stage: "teleprospecting_acceptance", flags: { readyForTeleprospecting: true } });
    const bob = await viewerOf();
    const ticked = await api<LeadCard>("POST", `/leads/${lead.id}/flags`, { flag: "sales_accepted", value: true, expectedVersion: lead.version });
    expect(ticked.status).toBe(200);
    const unticked = await api<LeadCard>("POST", `/leads/${lead.id}/flags`, { flag: "sales_accepted", value: false, expectedVersion: ticked.json.version });
    expect(unticked.status).toBe(200);
    const moved = await api<LeadCard>("POST", `/leads/${other.id}/move`, { toStage: "teleprospecting_qualification", expectedVersion: other.version });
    expect(moved.status).toBe(200);
    await until(() => bob.events.length === 3);
    expect(bob.events[0]).toMatchObject({ type: "lead.updated", flagsSet: ["sales_accepted"] });
    expect(bob.events[1]!.type).toBe("lead.updated");
    expect(bob.events[1]).not.toHaveProperty("flagsSet");
    expect(bob.events[2]).toMatchObject({ type: "lead.moved", flagsSet: ["teleprospecting_accepted"] });
  });

  it("assigns, records stage fields, converts, and viewers see the lead leave", async () => {
    const lead = await newLead({ stage: "sales_acceptance", flags: { salesReady: true } });
    const bob = await viewerOf(undefined, viewerCookie);
    const assigned = await api<LeadCard>("POST", `/leads/${lead.id}/assign`, { ownerId: sallyId, expectedVersion: lead.version });
    expect(assigned).toMatchObject({ status: 200, json: { ownerId: sallyId } });
    const fields = await api<LeadCard>("POST", `/leads/${lead.id}/stage-fields`, {
      values: { salesperson: sallyId, estimated_value: 5000 },
      expectedVersion: assigned.json.version,
    });
    expect(fields.status).toBe(200);
    const blocked = await api<ErrorAnswer>("POST", `/leads/${lead.id}/convert`, { expectedVersion: fields.json.version });
    expect(blocked).toMatchObject({ status: 409, json: { error: { code: "ILLEGAL_TRANSITION", details: { missing: ["sales_accepted"] } } } });
    const accepted = await api<LeadCard>("POST", `/leads/${lead.id}/flags`, {
      flag: "sales_accepted",
      value: true,
      expectedVersion: fields.json.version,
    });
    const converted = await api<{ lead: LeadCard; opportunity: Opportunity }>("POST", `/leads/${lead.id}/convert`, {
      expectedVersion: accepted.json.version,
      estimatedValue: 5000,
    });
    expect(converted).toMatchObject({
      status: 200,
      json: { lead: { id: lead.id }, opportunity: { leadId: lead.id, ownerId: sallyId, estimatedValue: 5000 } },
    });
    await until(() => bob.events.length === 4);
    expect(bob.events.map((e) => e.type)).toEqual(["lead.updated", "lead.updated", "lead.updated", "lead.removed"]);
    expect(bob.events[3]).toMatchObject({ reason: "converted", seq: bob.snapshot.seq + 4 });
  });

  it("disqualifies and reopens over HTTP", async () => {
    const lead = await newLead();
    const bob = await viewerOf();
    const out = await api<LeadCard>("POST", `/leads/${lead.id}/disqualify`, { reason: "Competitor", expectedVersion: 1 });
    expect(out.status).toBe(200);
    const back = await api<LeadCard>("POST", `/leads/${lead.id}/reopen`, { expectedVersion: out.json.version });
    expect(back).toMatchObject({ status: 200, json: { stage: "inquiry", version: 3 } });
    await until(() => bob.events.length === 2);
    expect(bob.events.map((e) => [e.type, "reason" in e ? e.reason : null])).toEqual([
      ["lead.removed", "disqualified"],
      ["lead.created", null],
    ]);
  });

  it.each([
    ["an unknown field", "flags", { flag: "sales_ready", value: true, expectedVersion: 1, colour: "red" }, "(body)"],
    ["an unknown flag", "flags", { flag: "won", value: true, expectedVersion: 1 }, "flag"],
    ["a missing version", "assign", { ownerId: null }, "expectedVersion"],
    ["a bad owner id", "assign", { ownerId: "sally", expectedVersion: 1 }, "ownerId"],
    ["no values", "stage-fields", { values: {}, expectedVersion: 1 }, "values"],
    ["a bad stage value", "stage-fields", { values: { meets_minimum_criteria: "yes" }, expectedVersion: 1 }, "values.meets_minimum_criteria"],
    ["an empty reason", "disqualify", { reason: " ", expectedVersion: 1 }, "reason"],
    ["a too long reason", "disqualify", { reason: "x".repeat(501), expectedVersion: 1 }, "reason"],
    ["a bad process id", "process", { processId: "x", expectedVersion: 1 }, "processId"],
    ["a negative value", "convert", { expectedVersion: 1, estimatedValue: -1 }, "estimatedValue"],
  ])("answers %s with INVALID_INPUT and changes nothing", async (_name, action, body, field) => {
    const lead = await newLead({ stage: "teleprospecting_acceptance", flags: { readyForTeleprospecting: true } });
    const res = await api<ErrorAnswer>("POST", `/leads/${lead.id}/${action}`, body);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("INVALID_INPUT");
    expect((res.json.error.details as Array<{ field: string }>).map((d) => d.field)).toContain(field);
    expect(await server.app.services.leads.get(lead.id)).toEqual(lead);
  });

  it("answers stale versions with CONFLICT, viewers with FORBIDDEN, anonymous callers with UNAUTHENTICATED", async () => {
    const lead = await newLead();
    const stale = await api<ErrorAnswer>("POST", `/leads/${lead.id}/flags`, { flag: "sales_ready", value: true, expectedVersion: 2 });
    expect(stale).toMatchObject({ status: 409, json: { error: { code: "CONFLICT", details: { currentVersion: 1 } } } });
    const forbidden = await api<ErrorAnswer>("POST", `/leads/${lead.id}/flags`, { flag: "sales_ready", value: true, expectedVersion: 1 }, viewerCookie);
    expect(forbidden).toMatchObject({ status: 403, json: { error: { code: "FORBIDDEN" } } });
    const patch = await api<ErrorAnswer>("PATCH", `/processes/${lead.processId}`, { expectedVersion: 1, name: "Mine" }, viewerCookie);
    expect(patch.status).toBe(403);
    const anonymous = await fetch(`${server.url}/api/processes`);
    expect(anonymous.status).toBe(401);
    const missing = await api<ErrorAnswer>("POST", `/leads/${crypto.randomUUID()}/disqualify`, { reason: "x", expectedVersion: 1 });
    expect(missing.status).toBe(404);
    expect(await server.app.services.leads.get(lead.id)).toEqual(lead);
  });

  it.each([
    ["no stages", { name: "Empty", stages: [] }, "stages"],
    ["a bad stage key", { name: "Bad", stages: [{ key: "Intake", name: "Intake" }] }, "stages.0.key"],
    ["a repeated key", { name: "Twice", stages: [{ key: "a", name: "A" }, { key: "a", name: "A2" }] }, "stages.1.key"],
    ["an unknown requirement", { name: "Req", stages: [{ key: "a", name: "A", entryRequirements: ["rich"] }] }, "stages.0.entryRequirements.0"],
    [
      "a choice without options",
      { name: "Choice", stages: [{ key: "a", name: "A", fields: [{ key: "c", label: "C", type: "choice" }] }] },
      "stages.0.fields.0.options",
    ],
  ])("refuses a process with %s", async (_name, body, field) => {
    const res = await api<ErrorAnswer>("POST", "/processes", body);
    expect(res.status).toBe(400);
    expect((res.json.error.details as Array<{ field: string }>).map((d) => d.field)).toContain(field);
  });

  it("creates and edits a process; both viewers of its board get the lead moves and one stages.changed", async () => {
    const created = await api<ProcessView>("POST", "/processes", {
      name: "Webinar leads",
      stages: [
        { key: "signed_up", name: "Signed up" },
        { key: "watched", name: "Watched" },
        { key: "follow_up", name: "Follow-up" },
      ],
    });
    expect(created.status).toBe(201);
    const process = created.json;
    const listed = await api<ProcessView[]>("GET", "/processes", undefined, viewerCookie);
    expect(listed.json.map((p) => p.id)).toContain(process.id);
    expect((await api<ProcessView>("GET", `/processes/${process.id}`, undefined, viewerCookie)).json).toEqual(process);

    // Two leads on the new board: one moved there from the default process, one created there.
    const moved = await newLead();
    const switched = await api<LeadCard>("POST", `/leads/${moved.id}/process`, {
      processId: process.id,
      toStage: "watched",
      expectedVersion: 1,
    });
    expect(switched).toMatchObject({ status: 200, json: { processId: process.id, stage: "watched" } });
    const alice = await viewerOf(process.id);
    const bob = await viewerOf(process.id, viewerCookie);
    expect(bob.snapshot.leads.map((l) => l.id)).toEqual([moved.id]);

    const [signedUp, , followUp] = process.stages;
    const edit = await api<ProcessView>("PATCH", `/processes/${process.id}`, {
      expectedVersion: 1,
      name: "Webinar follow-up",
      stages: [
        { id: followUp!.id, key: "follow_up", name: "Follow-up" },
        { id: signedUp!.id, key: "signed_up", name: "Signed up" },
      ],
      moveLeadsTo: { watched: "follow_up" },
    });
    expect(edit.status).toBe(200);
    expect(edit.json).toMatchObject({ name: "Webinar follow-up", version: 2 });
    expect(edit.json.stages.map((s) => [s.key, s.position])).toEqual([
      ["follow_up", 0],
      ["signed_up", 1],
    ]);
    await until(() => alice.events.length === 2 && bob.events.length === 2);
    expect(bob.events).toEqual(alice.events);
    expect(bob.events[0]).toMatchObject({
      type: "lead.moved",
      seq: bob.snapshot.seq + 1,
      fromStage: "watched",
      toStage: "follow_up",
      lead: { id: moved.id, stageId: followUp!.id },
    });
    expect(bob.events[1]).toEqual({
      type: "stages.changed",
      boardId: process.boardId,
      seq: bob.snapshot.seq + 2,
      at: expect.any(String),
      actor: { id: admin.id, name: "Ada Admin", kind: "user" },
      processName: "Webinar follow-up",
      stages: edit.json.stages,
    });

    const stale = await api<ErrorAnswer>("PATCH", `/processes/${process.id}`, { expectedVersion: 1, name: "Again" });
    expect(stale).toMatchObject({ status: 409, json: { error: { code: "CONFLICT" } } });
    const unmapped = await api<ErrorAnswer>("PATCH", `/processes/${process.id}`, {
      expectedVersion: 2,
      stages: [{ id: signedUp!.id, key: "signed_up", name: "Signed up" }],
    });
    expect(unmapped).toMatchObject({
      status: 400,
      json: { error: { code: "INVALID_INPUT", details: [{ field: "moveLeadsTo.follow_up" }] } },
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(bob.events).toHaveLength(2);
  });
});
