import { readFileSync } from "node:fs";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stages as stagesTable } from "../../drizzle/schema.ts";
import type { BoardEvent, BoardSnapshot, LeadCard } from "../../shared/board.ts";
import { stageAgeLevel } from "../../shared/domain/stage-age.ts";
import { defaultStages } from "../../shared/domain/stages.ts";
import { processCreateInput, type ProcessView } from "../../shared/schemas/processes.ts";
import { issuesToDetails } from "../../shared/schemas/common.ts";
import { migrationsFolder } from "../../server/db/client.ts";
import type { Actor } from "../../server/services/actor.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeContact, makeUser } from "../support/builders.ts";
import { login, startTestServer, type TestServer } from "../support/server.ts";

interface ErrorJson {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}

describe("stage time limits: the schema", () => {
  const body = (timeLimits: unknown) => ({ name: "P", stages: [{ key: "one", name: "One", timeLimits }] });
  const problems = (timeLimits: unknown) => {
    const result = processCreateInput.safeParse(body(timeLimits));
    return result.success ? [] : issuesToDetails(result.error);
  };

  it.each([
    ["both set, red after amber", { amberAfterHours: 24, redAfterHours: 72 }],
    ["none (null)", null],
    ["none (omitted)", undefined],
    ["the widest", { amberAfterHours: 1, redAfterHours: 8760 }],
  ])("accepts %s", (_label, limits) => {
    expect(problems(limits)).toEqual([]);
  });

  it.each([
    ["red not after amber", { amberAfterHours: 48, redAfterHours: 48 }, "stages.0.timeLimits.redAfterHours", "must be more than amber (48 h)"],
    ["red before amber", { amberAfterHours: 72, redAfterHours: 24 }, "stages.0.timeLimits.redAfterHours", "must be more than amber (72 h)"],
    ["zero hours", { amberAfterHours: 0, redAfterHours: 5 }, "stages.0.timeLimits.amberAfterHours", "must be at least 1 hour"],
    ["a fraction", { amberAfterHours: 1.5, redAfterHours: 5 }, "stages.0.timeLimits.amberAfterHours", "must be a whole number of hours"],
    ["more than a year", { amberAfterHours: 24, redAfterHours: 9000 }, "stages.0.timeLimits.redAfterHours", "must be at most 8760 hours (a year)"],
    ["only amber", { amberAfterHours: 24, redAfterHours: null }, "stages.0.timeLimits.redAfterHours", "must be a whole number of hours (set both limits, or neither)"],
    ["a string", { amberAfterHours: "24", redAfterHours: 48 }, "stages.0.timeLimits.amberAfterHours", "must be a whole number of hours (set both limits, or neither)"],
  ])("refuses %s with a message on the field", (_label, limits, field, message) => {
    expect(problems(limits)).toEqual([{ field, message }]);
  });

  it("refuses unknown keys in the limits", () => {
    expect(problems({ amberAfterHours: 1, redAfterHours: 2, yellowAfterHours: 3 })).toEqual([
      { field: "stages.0.timeLimits", message: expect.stringContaining("yellowAfterHours") },
    ]);
  });
});

describe.each(drivers)("stage time limits and card fields on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  let cookie: string;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    const made = await makeUser(server.app.services.auth, "admin", "Ada Admin");
    admin = made.actor;
    cookie = await login(server.url, made.user.email);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const api = (path: string, init: { method?: string; json?: unknown } = {}) =>
    fetch(`${server.url}/api${path}`, {
      method: init.method ?? "GET",
      headers: { cookie, "content-type": "application/json" },
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  const getProcess = async (id: string) => (await (await api(`/processes/${id}`)).json()) as ProcessView;

  it("gives the default process the limits of defaultStages (migration 0003)", async () => {
    const list = (await (await api("/processes")).json()) as ProcessView[];
    const standard = list.find((p) => p.isDefault)!;
    expect(standard.stages.map((s) => [s.key, s.timeLimits])).toEqual(defaultStages.map((s) => [s.key, s.timeLimits]));
    expect(standard.stages.map((s) => s.timeLimits)).toEqual([
      { amberAfterHours: 24, redAfterHours: 72 },
      { amberAfterHours: 48, redAfterHours: 120 },
      { amberAfterHours: 72, redAfterHours: 168 },
      { amberAfterHours: 72, redAfterHours: 168 },
      { amberAfterHours: 48, redAfterHours: 120 },
    ]);
    // The board's snapshot carries them too, for the cards' colours.
    const snapshot = await server.app.services.boards.snapshot(standard.boardId, new Date());
    expect(snapshot.stages.map((s) => s.timeLimits)).toEqual(standard.stages.map((s) => s.timeLimits));
  });

  it("the migration's update fills only the default process's stages that have no limits", async () => {
    const file = readFileSync(path.join(migrationsFolder, "0003_collaborative_board.sql"), "utf8");
    const update = file.split("--> statement-breakpoint").find((statement) => statement.includes('UPDATE "stages"'))!;
    const db = t.database.db;
    await db.execute(sql`update stages set warn_after_minutes = 60, alert_after_minutes = 120 where key = 'inquiry'`);
    await db.execute(sql`update stages set warn_after_minutes = null, alert_after_minutes = null where key = 'sales_acceptance'`);
    await db.execute(sql.raw(update));
    const standard = ((await (await api("/processes")).json()) as ProcessView[]).find((p) => p.isDefault)!;
    const limits = Object.fromEntries(standard.stages.map((s) => [s.key, s.timeLimits]));
    expect(limits.inquiry).toEqual({ amberAfterHours: 1, redAfterHours: 2 });
    expect(limits.sales_acceptance).toEqual({ amberAfterHours: 48, redAfterHours: 120 });
    await db.execute(sql`update stages set warn_after_minutes = ${24 * 60}, alert_after_minutes = ${72 * 60} where key = 'inquiry'`);
  });

  it("stores limits given at creation, changed or cleared by an edit, and tells the board", async () => {
    const created = await api("/processes", {
      method: "POST",
      json: {
        name: "Limited",
        stages: [
          { key: "new", name: "New", timeLimits: { amberAfterHours: 2, redAfterHours: 8 } },
          { key: "later", name: "Later" },
        ],
      },
    });
    expect(created.status).toBe(201);
    const process = (await created.json()) as ProcessView;
    expect(process.stages.map((s) => s.timeLimits)).toEqual([{ amberAfterHours: 2, redAfterHours: 8 }, null]);

    const [first, second] = process.stages;
    const edited = await api(`/processes/${process.id}`, {
      method: "PATCH",
      json: {
        expectedVersion: process.version,
        stages: [
          { id: first!.id, key: "new", name: "New", timeLimits: null },
          { id: second!.id, key: "later", name: "Later", timeLimits: { amberAfterHours: 100, redAfterHours: 8760 } },
        ],
      },
    });
    expect(edited.status).toBe(200);
    const after = (await edited.json()) as ProcessView;
    expect(after.stages.map((s) => s.timeLimits)).toEqual([null, { amberAfterHours: 100, redAfterHours: 8760 }]);
    expect(await getProcess(process.id)).toEqual(after);
    const events = await server.app.services.boards.resync(admin, { boardId: process.boardId, sinceSeq: 0 }, new Date());
    const changed = "events" in events ? events.events.filter((e): e is Extract<BoardEvent, { type: "stages.changed" }> => e.type === "stages.changed") : [];
    expect(changed.at(-1)?.stages.map((s) => s.timeLimits)).toEqual([null, { amberAfterHours: 100, redAfterHours: 8760 }]);

    // An entry is the whole stage: an entry without limits has none.
    const cleared = await api(`/processes/${process.id}`, {
      method: "PATCH",
      json: { expectedVersion: after.version, stages: after.stages.map((s) => ({ id: s.id, key: s.key, name: s.name })) },
    });
    expect(((await cleared.json()) as ProcessView).stages.map((s) => s.timeLimits)).toEqual([null, null]);
  });

  it("refuses bad limits with INVALID_INPUT naming each field, and changes nothing", async () => {
    const process = (await (await api("/processes", { method: "POST", json: { name: "Strict", stages: [{ key: "a", name: "A", timeLimits: { amberAfterHours: 5, redAfterHours: 10 } }, { key: "b", name: "B" }] } })).json()) as ProcessView;
    const before = await getProcess(process.id);
    const res = await api(`/processes/${process.id}`, {
      method: "PATCH",
      json: {
        expectedVersion: process.version,
        stages: [
          { id: process.stages[0]!.id, key: "a", name: "A", timeLimits: { amberAfterHours: 10, redAfterHours: 10 } },
          { id: process.stages[1]!.id, key: "b", name: "B", timeLimits: { amberAfterHours: 0, redAfterHours: 99999 } },
        ],
      },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ErrorJson;
    expect(body.error.code).toBe("INVALID_INPUT");
    expect(body.error.details).toEqual(
      expect.arrayContaining([
        { field: "stages.0.timeLimits.redAfterHours", message: "must be more than amber (10 h)" },
        { field: "stages.1.timeLimits.amberAfterHours", message: "must be at least 1 hour" },
        { field: "stages.1.timeLimits.redAfterHours", message: "must be at most 8760 hours (a year)" },
      ]),
    );
    const create = await api("/processes", { method: "POST", json: { name: "Never", stages: [{ key: "x", name: "X", timeLimits: { amberAfterHours: 3 } }] } });
    expect(create.status).toBe(400);
    expect(((await create.json()) as ErrorJson).error.details).toEqual([
      { field: "stages.0.timeLimits.redAfterHours", message: "must be a whole number of hours (set both limits, or neither)" },
    ]);
    expect(await getProcess(process.id)).toEqual(before);
    const names = ((await (await api("/processes")).json()) as ProcessView[]).map((p) => p.name);
    expect(names).not.toContain("Never");
  });

  it("the database itself keeps limits paired and red after amber; minutes read as hours", async () => {
    const scratch = (await (await api("/processes", { method: "POST", json: { name: "Scratch", stages: [{ key: "s", name: "S" }] } })).json()) as ProcessView;
    const stage = scratch.stages[0];
    for (const [warn, alert] of [[60, null], [null, 60], [120, 60], [60, 60], [0, 60]] as const) {
      await expect(
        t.database.db.execute(sql`update stages set warn_after_minutes = ${warn}, alert_after_minutes = ${alert} where id = ${stage!.id}`),
      ).rejects.toThrow();
    }
    await t.database.db.execute(sql`update stages set warn_after_minutes = 60, alert_after_minutes = 61 where id = ${stage!.id}`);
    expect((await getProcess(scratch.id)).stages[0]!.timeLimits).toEqual({ amberAfterHours: 1, redAfterHours: 61 / 60 });
  });

  it("cards carry the owner's name, the campaign and the form, on the board and in the lead", async () => {
    const formRes = await api("/forms", { method: "POST", json: { name: "Spring landing page", campaign: "Spring launch" } });
    expect(formRes.status).toBe(201);
    const form = (await formRes.json()) as { id: string };
    const submitted = await fetch(`${server.url}/api/forms/${form.id}/submissions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: `card.${Date.now()}@test.example`, firstName: "Card" }),
    });
    const { leadId } = (await submitted.json()) as { leadId: string };
    const owner = await makeUser(server.app.services.auth, "salesperson", "Sofia Seller");
    const card = (await (await api(`/leads/${leadId}`)).json()) as LeadCard;
    expect(card).toMatchObject({ ownerId: null, ownerName: null, campaign: "Spring launch", formId: form.id, formName: "Spring landing page" });
    await server.app.services.lifecycle.assign(admin, leadId, { ownerId: owner.user.id, expectedVersion: card.version }, new Date());

    const contact = await makeContact(t.database.db);
    const plain = await server.app.services.leads.create(admin, { topic: "By hand", contactId: contact.id, campaign: "Retail summit" }, new Date());
    expect(plain).toMatchObject({ ownerName: null, campaign: "Retail summit", formId: null, formName: null });

    const process = (await (await api("/processes")).json()) as ProcessView[];
    const snapshot: BoardSnapshot = await server.app.services.boards.snapshot(process[0]!.boardId, new Date());
    const onBoard = snapshot.leads.find((l) => l.id === leadId)!;
    expect(onBoard).toMatchObject({ ownerId: owner.user.id, ownerName: "Sofia Seller", campaign: "Spring launch", formName: "Spring landing page" });
    // A card that just entered its stage is within its limits.
    const stage = snapshot.stages.find((s) => s.id === onBoard.stageId)!;
    expect(stageAgeLevel(onBoard.stageEnteredAt, Date.now(), stage.timeLimits)).toBe("ok");
    const detail = (await (await api(`/leads/${leadId}`)).json()) as LeadCard;
    expect(detail).toMatchObject({ ownerName: "Sofia Seller", campaign: "Spring launch", formId: form.id, formName: "Spring landing page" });
  });

  it("keeps the stages' stored minutes in step with the hours the API speaks", async () => {
    const rows = await t.database.db
      .select({ key: stagesTable.key, warn: stagesTable.warnAfterMinutes, alert: stagesTable.alertAfterMinutes })
      .from(stagesTable)
      .where(eq(stagesTable.key, "inquiry"));
    expect(rows).toContainEqual({ key: "inquiry", warn: 24 * 60, alert: 72 * 60 });
  });
});
