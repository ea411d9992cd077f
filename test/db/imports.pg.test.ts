import { Readable } from "node:stream";
import { count, eq, inArray, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { accounts, contacts, imports, leads, scoreCounters, scoreQueue, scoringModels } from "../../drizzle/schema.ts";
import type { Db } from "../../server/db/client.ts";
import type { ImportRow } from "../../server/repositories/imports.ts";
import { findCards } from "../../server/repositories/leads.ts";
import { insertStrategy } from "../../server/repositories/matching.ts";
import type { Actor } from "../../server/services/actor.ts";
import { AuthService } from "../../server/services/auth-service.ts";
import { toImportView, type ImportRequest } from "../../server/services/import-service.ts";
import { IntakeService } from "../../server/services/intake-service.ts";
import { LeadService } from "../../server/services/lead-service.ts";
import { recordInteractions } from "../../server/services/scoring-counters.ts";
import { makeUser } from "../support/builders.ts";
import { drivers } from "../support/databases.ts";
import { importContext, tag } from "../support/import-context.ts";

describe.each(drivers)("CSV imports on %s", (driver) => {
  const c = importContext(driver);
  const { announced, service, importCsv, knownContact, countOf } = c;
  let db: Db;
  let admin: Actor;
  let leadService: LeadService;
  let intake: IntakeService;
  beforeAll(() => {
    ({ db, admin, leadService, intake } = c);
  });

  it("imports contacts, then matches every row of the same file to them", async () => {
    const t1 = tag();
    const existing = await knownContact({ email: `known.${t1}@x.example`, firstName: "Kim" });
    const csv = [
      "First Name,Last Name,E-mail Address,Company Name,Job Title,Business Phone,Country/Region",
      `Ann,Lee,ann.${t1}@x.example,Acme ${t1},CTO,+33 1 02 03 04 05,France`,
      `Bob,Ray,bob.${t1}@x.example,Acme ${t1},,,`,
      `,Stone,known.${t1}@x.example,,,,`,
    ].join("\r\n");
    const before = await countOf(contacts);
    const first = await importCsv(csv, { kind: "contacts", fileName: "people.csv" });
    expect(first).toMatchObject({ status: "done", kind: "contacts", fileName: "people.csv", total: 3, processed: 3, created: 2, updated: 1, errors: [] });
    expect(first.mapping).toMatchObject({ "E-mail Address": "email", "Company Name": "company", "Country/Region": "country" });
    expect(first.finishedAt).toBeInstanceOf(Date);
    expect(await countOf(contacts)).toBe(before + 2);
    const merged = (await db.select().from(contacts).where(eq(contacts.id, existing.id)))[0]!;
    expect(merged).toMatchObject({ firstName: "Kim", lastName: "Stone" });
    const ann = (await db.select().from(contacts).where(eq(contacts.email, `ann.${t1}@x.example`)))[0]!;
    expect(ann).toMatchObject({ firstName: "Ann", jobTitle: "CTO", phone: "+33 1 02 03 04 05", country: "France", source: "import" });
    const account = (await db.select().from(accounts).where(eq(accounts.id, ann.accountId!)))[0]!;
    expect(account.name).toBe(`Acme ${t1}`);

    const second = await importCsv(csv, { kind: "contacts" });
    expect(second).toMatchObject({ status: "done", processed: 3, created: 0, updated: 3 });
    expect(await countOf(contacts)).toBe(before + 2);
  });

  it("imports leads onto existing contacts; with an email+topic strategy a re-run creates nothing", async () => {
    const t2 = tag();
    const strategy = await insertStrategy(db, { name: `Lead by email and topic ${t2}`, entity: "lead", fields: ["email", "topic"] });
    const known = await knownContact({ email: `lead.${t2}@x.example` });
    const csv = ["Email,First Name,Topic,Campaign", `lead.${t2}@x.example,Lou,Pricing,Spring`, `new.${t2}@x.example,Nat,,`].join("\n");
    const contactsBefore = await countOf(contacts);
    const leadsBefore = await countOf(leads);
    announced.length = 0;
    const first = await importCsv(csv, { kind: "leads", leadStrategyId: strategy.id, campaign: "Import 2024" });
    expect(first).toMatchObject({ status: "done", processed: 2, created: 2, updated: 0, errors: [], leadStrategyId: strategy.id });
    expect(await countOf(contacts)).toBe(contactsBefore + 1);
    const rows = await db.select().from(leads).where(eq(leads.contactId, known.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ topic: "Pricing", campaign: "Spring", source: "import" });
    const [other] = await db.select().from(leads).innerJoin(contacts, eq(contacts.id, leads.contactId)).where(eq(contacts.email, `new.${t2}@x.example`));
    expect(other!.leads).toMatchObject({ topic: "Imported lead", campaign: "Import 2024" });
    // The board hears of each new lead once its batch has committed.
    expect(announced.filter((e) => e.type === "lead.created").map((e) => e.lead.id).sort()).toEqual([rows[0]!.id, other!.leads.id].sort());

    const second = await importCsv(csv, { kind: "leads", leadStrategyId: strategy.id, campaign: "Import 2024" });
    expect(second).toMatchObject({ status: "done", processed: 2, created: 0, updated: 2 });
    expect(await countOf(leads)).toBe(leadsBefore + 2);
    expect(await countOf(contacts)).toBe(contactsBefore + 1);
  });

  it("matches rows of one batch to each other, and announces each new lead with the card the board reads", async () => {
    const t9 = tag();
    const contactsCsv = ["Email,First Name,Company", `x.${t9}@x.example,Ann,Acme ${t9}`, `X.${t9}@x.example,,`, `x.${t9}@x.example,Anna,ACME ${t9}`].join("\n");
    expect(await importCsv(contactsCsv, { kind: "contacts" })).toMatchObject({ status: "done", created: 1, updated: 2 });
    const people = await db.select().from(contacts).where(eq(contacts.emailNormalized, `x.${t9}@x.example`));
    expect(people).toHaveLength(1);
    expect(people[0]).toMatchObject({ firstName: "Anna" });
    const companies = await db.select().from(accounts).where(eq(accounts.name, `Acme ${t9}`));
    expect(companies).toHaveLength(1);
    expect(people[0]!.accountId).toBe(companies[0]!.id);

    const csv = [
      "Email,First Name,Last Name,Company,Topic,Campaign",
      `d1.${t9}@x.example,Ann,Lee,acme ${t9},Pricing,`,
      `D1.${t9}@x.example,,Lee-Smith,Globex ${t9},Renewal,Spring`,
      `,,,Solo ${t9},,`,
      `,Bob,,,,`,
      `x.${t9}@x.example,,,,Upgrade,`,
    ].join("\n");
    announced.length = 0;
    expect(await importCsv(csv, { kind: "leads" })).toMatchObject({ status: "done", processed: 5, created: 5, errors: [] });
    const d1 = await db.select().from(contacts).where(eq(contacts.emailNormalized, `d1.${t9}@x.example`));
    expect(d1).toHaveLength(1);
    expect(d1[0]).toMatchObject({ firstName: "Ann", lastName: "Lee-Smith" });
    const created = announced.filter((e) => e.type === "lead.created");
    expect(created.map((e) => e.lead.topic)).toEqual(["Pricing", "Renewal", "Imported lead", "Imported lead", "Upgrade"]);
    const stored = await findCards(db, created.map((e) => e.lead.id));
    for (const event of created) expect(event.lead).toEqual(stored.get(event.lead.id));
    expect(created.map((e) => [e.lead.contactName, e.lead.companyName])).toEqual([
      ["Ann Lee-Smith", `Acme ${t9}`],
      ["Ann Lee-Smith", `Globex ${t9}`],
      [null, `Solo ${t9}`],
      ["Bob", null],
      ["Anna", `Acme ${t9}`],
    ]);
  });

  it("makes account-based leads from rows that name only a company, reusing known accounts", async () => {
    const t3 = tag();
    const csv = ["Company,Topic,Country", `Globex ${t3},Fleet renewal,Germany`, `globex ${t3},Support contract,`, `Initech ${t3},,`].join("\n");
    const first = await importCsv(csv, { kind: "leads" });
    expect(first).toMatchObject({ status: "done", created: 3, errors: [] });
    const rows = await db
      .select({ topic: leads.topic, contactId: leads.contactId, account: accounts.name, country: accounts.country })
      .from(leads)
      .innerJoin(accounts, eq(accounts.id, leads.accountId))
      .where(eq(leads.source, "import"));
    const mine = rows.filter((r) => r.account.endsWith(t3)).sort((a, b) => a.topic.localeCompare(b.topic));
    expect(mine).toEqual([
      { topic: "Fleet renewal", contactId: null, account: `Globex ${t3}`, country: "Germany" },
      { topic: "Imported lead", contactId: null, account: `Initech ${t3}`, country: null },
      { topic: "Support contract", contactId: null, account: `Globex ${t3}`, country: "Germany" },
    ]);

    // Matched through the lead strategy when it can compare company and topic.
    const strategy = await insertStrategy(db, { name: `Lead by company and topic ${t3}`, entity: "lead", fields: ["company", "topic"] });
    const leadsBefore = await countOf(leads);
    expect(await importCsv(csv, { kind: "leads", leadStrategyId: strategy.id })).toMatchObject({ created: 3, updated: 0 });
    expect(await importCsv(csv, { kind: "leads", leadStrategyId: strategy.id })).toMatchObject({ created: 0, updated: 3 });
    expect(await countOf(leads)).toBe(leadsBefore + 3);
  });

  it("reports each bad row with its number and keeps every good row", async () => {
    const t4 = tag();
    const good = (n: number) => `good${n}.${t4}@x.example`;
    const csv = [
      "Email,First Name,Last Name",
      `${good(1)},Ann,One`, // row 1
      "not-an-email,Bob,Two", // row 2
      ",,", // row 3: empty, skipped silently
      `${good(4)},"Unclosed,Four`, // row 4: a quote never closed; the lines after it are rows of their own
      `${good(5)},Five,"Quoted ""nick"""`, // row 5
      `${good(6)},Six,Se"x`, // row 6: a quote inside an unquoted field
      `${good(7)},Sev,En,extra`, // row 7: too many columns
      `,,Lonely`, // row 8: a name is enough for a contact
      `${good(9)},"Nine"x,`, // row 9: text after a closing quote
      `@nobody,,`, // row 10
      `${good(11)},Eleven,`, // row 11
    ].join("\n");
    const row = await importCsv(csv, { kind: "contacts" }, service({ batchSize: 4 }));
    expect(row).toMatchObject({ status: "done", total: 11, processed: 11, created: 4, updated: 0 });
    expect(row.errors).toEqual([
      { row: 2, error: "email: must be an email address" },
      { row: 4, error: "a quote is not closed" },
      { row: 6, error: expect.stringContaining("a quote inside a field") },
      { row: 7, error: "the row has 4 values but the header has 3 columns" },
      { row: 9, error: expect.stringContaining("text after a closing quote") },
      { row: 10, error: "email: must be an email address" },
    ]);
    const imported = await db.select({ email: contacts.email, lastName: contacts.lastName }).from(contacts);
    expect(imported.filter((c) => c.email?.includes(t4)).map((c) => c.email).sort()).toEqual([good(1), good(11), good(5)].sort());
    expect(imported.some((c) => c.lastName === 'Quoted "nick"')).toBe(true);
    expect(imported.some((c) => c.lastName === "Lonely")).toBe(true);
  });

  it("rolls back a row that fails while writing, alone: its batch's other rows and events stay", async () => {
    const t5 = tag();
    // The database refuses one row's contact (as a constraint would): the batch written at
    // once fails, and the rows go again one at a time, so only that row is rejected.
    await db.execute(sql.raw(`
      create function refuse_boom_${t5}() returns trigger language plpgsql as $$
      begin
        if new.email like 'boom.${t5}@%' then raise exception 'refused' using errcode = 'check_violation'; end if;
        return new;
      end $$`));
    await db.execute(sql.raw(`create trigger refuse_boom_${t5} before insert on contacts for each row execute function refuse_boom_${t5}()`));
    try {
      const csv = ["Email,Topic", `a.${t5}@x.example,A`, `boom.${t5}@x.example,B`, `c.${t5}@x.example,C`].join("\n");
      announced.length = 0;
      const row = await importCsv(csv, { kind: "leads" });
      expect(row).toMatchObject({ status: "done", processed: 3, created: 2, errors: [{ row: 2, error: "could not be saved: it conflicts with existing data" }] });
      const emails = (await db.select({ email: contacts.email }).from(contacts)).map((c) => c.email).filter((e) => e?.includes(t5));
      expect(emails.sort()).toEqual([`a.${t5}@x.example`, `c.${t5}@x.example`]);
      const topics = announced.filter((e) => e.type === "lead.created").map((e) => e.lead.topic);
      expect(topics).toEqual(["A", "C"]);
      // No gap in the board's seqs: the rolled-back row's event seq was reused.
      const seqs = announced.map((e) => e.seq);
      expect(seqs[1]).toBe(seqs[0]! + 1);
    } finally {
      await db.execute(sql.raw(`drop trigger refuse_boom_${t5} on contacts`));
      await db.execute(sql.raw(`drop function refuse_boom_${t5}()`));
    }
  });

  it("commits progress with each batch, and caps the listed errors", async () => {
    const progress: ImportRow[] = [];
    const lines = ["Email"];
    for (let i = 1; i <= 1_005; i++) lines.push(`bad-${i}`);
    lines.push(`fine.${tag()}@x.example`);
    const row = await importCsv(lines.join("\n"), { kind: "contacts" }, service({ batchSize: 400, onProgress: (r) => progress.push(r) }));
    expect(progress.map((p) => [p.status, p.processed])).toEqual([
      ["running", 400],
      ["running", 800],
      ["done", 1_006],
    ]);
    const view = toImportView(row);
    expect(view).toMatchObject({ status: "done", total: 1_006, processed: 1_006, created: 1, errorsNotListed: 5 });
    expect(view.errors).toHaveLength(1_000);
    expect(view.errors[999]).toEqual({ row: 1_000, error: "email: must be an email address" });
  });

  it("treats a header-only file as an empty import", async () => {
    expect(await importCsv("Email,First Name\r\n", { kind: "contacts" })).toMatchObject({ status: "done", total: 0, processed: 0, created: 0 });
  });

  it("refuses a bad header and writes nothing", async () => {
    const before = (await db.select({ n: count() }).from(imports))[0]!.n;
    const start = (csv: string, request: ImportRequest) => service().start(admin, Readable.from([Buffer.from(csv)]), request, () => new Date());
    await expect(start("", { kind: "contacts" })).rejects.toMatchObject({ code: "INVALID_INPUT", message: expect.stringContaining("empty") });
    await expect(start("\n\n", { kind: "contacts" })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(start("Email,Email\na@x.example,b@x.example\n", { kind: "contacts" })).rejects.toMatchObject({
      details: [{ field: "header", message: expect.stringContaining("both named") }],
    });
    await expect(start("Notes,Phone\n1,2\n", { kind: "leads" })).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(start("Email\na@x.example\n", { kind: "contacts", map: { Mail: "email" } })).rejects.toMatchObject({
      details: [{ field: "map.Mail" }],
    });
    await expect(start('Email,"Na"me\n', { kind: "contacts" })).rejects.toMatchObject({ message: expect.stringContaining("not valid CSV") });
    await expect(start("Email\na@x.example\n", { kind: "contacts", contactStrategyId: "7f1e7c1e-2b4e-4c55-9d0a-1a2b3c4d5e6f" })).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    const viewer = (await makeUser(new AuthService(db), "viewer")).actor;
    await expect(service().start(viewer, Readable.from(["Email\n"]), { kind: "contacts" }, () => new Date())).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await db.select({ n: count() }).from(imports))[0]!.n).toBe(before);
  });


  it("builds the scoring counters of imported leads from what their contacts and accounts did, and schedules every new lead", async () => {
    const t11 = tag();
    const condition = { kind: "behavior" as const, interaction: "form_submitted" as const, points: 10, frequency: "each" as const };
    const models = await db
      .insert(scoringModels)
      .values([
        { name: `contact ${t11}`, target: "contact" as const, threshold: 100, status: "live" as const, conditions: [condition] },
        { name: `account ${t11}`, target: "account" as const, threshold: 100, status: "live" as const, conditions: [condition] },
      ])
      .returning();
    try {
      // A known person who filled a form, and a colleague at the same (existing) company.
      const known = await knownContact({ email: `scored.${t11}@x.example` });
      const company = `Scored ${t11}`;
      await importCsv(`Email,Company\nscored.${t11}@x.example,${company}\n`, { kind: "contacts" });
      await db.transaction((tx) => recordInteractions(tx, [{ type: "form_submitted", contactId: known.id, occurredAt: new Date() }], new Date()));
      const csv = [
        "Email,First Name,Company,Topic",
        `scored.${t11}@x.example,Sam,${company},Scored topic`,
        `colleague.${t11}@x.example,Cy,${company},Scored topic`,
        `new.${t11}@x.example,Nu,Brand new ${t11},Scored topic`,
      ].join("\n");
      expect(await importCsv(csv, { kind: "leads" })).toMatchObject({ status: "done", created: 3 });
      const leadOf = async (email: string) =>
        (await db.select({ id: leads.id }).from(leads).innerJoin(contacts, eq(contacts.id, leads.contactId)).where(eq(contacts.email, email)))[0]!.id;
      const [own, colleague, fresh] = [await leadOf(`scored.${t11}@x.example`), await leadOf(`colleague.${t11}@x.example`), await leadOf(`new.${t11}@x.example`)];
      const countersOf = async (leadId: string) =>
        (await db.select().from(scoreCounters).where(eq(scoreCounters.leadId, leadId)))
          .map((c) => [models.findIndex((m) => m.id === c.modelId), c.count])
          .sort();
      // Its own form counts for the contact model and the account model; the colleague's account lead sees it too.
      expect(await countersOf(own)).toEqual([[0, 1], [1, 1]]);
      expect(await countersOf(colleague)).toEqual([[1, 1]]);
      // A new person at a new company: nothing to count, but evaluated like the others.
      expect(await countersOf(fresh)).toEqual([]);
      const queued = new Set((await db.select({ id: scoreQueue.leadId }).from(scoreQueue)).map((q) => q.id));
      expect([own, colleague, fresh].every((id) => queued.has(id))).toBe(true);
    } finally {
      await db.update(scoringModels).set({ status: "draft" }).where(inArray(scoringModels.id, models.map((m) => m.id)));
    }
  });
});
