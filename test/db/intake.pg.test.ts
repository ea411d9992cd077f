import { count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contacts, interactions, leads } from "../../drizzle/schema.ts";
import type { Actor } from "../../server/services/actor.ts";
import { DomainError } from "../../shared/errors.ts";
import { makeUser } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let serial = 0;
const email = (name = "person") => `${name}.${Date.now().toString(36)}${++serial}@intake.example`;

describe.each(drivers)("intake and matching on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    admin = (await makeUser(server.app.services.auth, "admin")).actor;
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  const s = () => server.app.services;
  const db = () => t.database.db;
  const newForm = (name = "Landing page", extra: Record<string, unknown> = {}) =>
    s().forms.create(admin, { name, campaign: "Spring", ...extra }, new Date());
  const submit = (formId: string, body: Record<string, unknown>, key?: string) =>
    s().forms.submit(formId, body, { idempotencyKey: key }, new Date());
  const contactsWith = async (address: string) =>
    (await db().select({ n: count() }).from(contacts).where(eq(contacts.emailNormalized, address.toLowerCase())))[0]!.n;
  const leadsOf = (contactId: string) => db().select().from(leads).where(eq(leads.contactId, contactId));

  it("a new form gets the default strategy pair (contact by email; lead by email and form)", async () => {
    const form = await newForm();
    const defaults = (await s().strategies.list()).filter((x) => x.isDefault);
    expect(defaults.map((x) => [x.entity, x.fields])).toEqual([
      ["contact", ["email"]],
      ["lead", ["email", "formId"]],
    ]);
    expect([form.contactStrategyId, form.leadStrategyId]).toEqual(defaults.map((x) => x.id));
  });

  it("creates contact, lead and form_submitted interaction, then updates on a second submission", async () => {
    const form = await newForm();
    const address = email("ada");
    const first = await submit(form.id, { email: address, firstName: "Ada", lastName: "Lovelace", company: "Analytical Engines" });
    expect(first).toMatchObject({ status: 201, body: { created: { contact: true, lead: true } } });
    const again = await submit(form.id, { email: ` ${address.toUpperCase()} `, jobTitle: "Countess", firstName: "" });
    expect(again).toMatchObject({ status: 200, body: { contactId: first.body.contactId, leadId: first.body.leadId, created: { contact: false, lead: false } } });
    const [contact] = await db().select().from(contacts).where(eq(contacts.id, first.body.contactId!));
    // Non-empty incoming values win; nothing is blanked.
    expect(contact).toMatchObject({ firstName: "Ada", lastName: "Lovelace", jobTitle: "Countess" });
    expect(await leadsOf(contact!.id)).toHaveLength(1);
    const counted = await db().select().from(interactions).where(eq(interactions.contactId, contact!.id));
    expect(counted.map((i) => [i.type, i.formId])).toEqual([
      ["form_submitted", form.id],
      ["form_submitted", form.id],
    ]);
    const lead = await s().leads.get(first.body.leadId!);
    expect(lead).toMatchObject({ source: "form", companyName: "Analytical Engines", contactName: "Ada Lovelace", stage: "inquiry" });
  });

  it("attaches a new lead to the existing contact when the person answers another form", async () => {
    const [a, b] = [await newForm("A"), await newForm("B")];
    const address = email();
    const one = await submit(a.id, { email: address });
    const two = await submit(b.id, { email: address });
    expect(two).toMatchObject({ status: 201, body: { contactId: one.body.contactId, created: { contact: false, lead: true } } });
    expect(await leadsOf(one.body.contactId!)).toHaveLength(2);
  });

  it("never creates a duplicate when identical submissions arrive at the same moment", async () => {
    const form = await newForm();
    const address = email("burst");
    const results = await Promise.all(Array.from({ length: 8 }, () => submit(form.id, { email: address, lastName: "Burst" })));
    expect(new Set(results.map((r) => r.body.contactId)).size).toBe(1);
    expect(new Set(results.map((r) => r.body.leadId)).size).toBe(1);
    expect(results.filter((r) => r.body.created.lead)).toHaveLength(1);
    expect(await contactsWith(address)).toBe(1);
    expect(await leadsOf(results[0]!.body.contactId!)).toHaveLength(1);
  });

  it("concurrent submissions of one person to different forms share one contact", async () => {
    const forms = await Promise.all([newForm("X"), newForm("Y"), newForm("Z")]);
    const address = email("multi");
    const results = await Promise.all(forms.map((f) => submit(f.id, { email: address })));
    expect(new Set(results.map((r) => r.body.contactId)).size).toBe(1);
    expect(new Set(results.map((r) => r.body.leadId)).size).toBe(3);
    expect(await contactsWith(address)).toBe(1);
  });

  it("an Idempotency-Key answers a retry with the first result and changes nothing, even concurrently", async () => {
    const form = await newForm();
    const address = email("retry");
    const results = await Promise.all(Array.from({ length: 4 }, () => submit(form.id, { email: address }, "key-1")));
    for (const r of results) expect(r.body).toEqual(results[0]!.body);
    const contactId = results[0]!.body.contactId!;
    expect((await db().select().from(interactions).where(eq(interactions.contactId, contactId))).length).toBe(1);
  });

  it("uses the form's own strategies: contacts by last name and company", async () => {
    const byName = await s().strategies.create(admin, { name: "Name at company", entity: "contact", fields: ["lastName", "company"] });
    const form = await newForm("Trade fair", { contactStrategyId: byName.id });
    const first = await submit(form.id, { email: email("w1"), lastName: "Weber", company: "Fourth Coffee" });
    const second = await submit(form.id, { email: email("w2"), lastName: " weber ", company: "FOURTH COFFEE" });
    expect(second.body.contactId).toBe(first.body.contactId);
    // The default form still matches by email, so a different email is another person there.
    const other = await submit((await newForm()).id, { email: email("w3"), lastName: "Weber", company: "Fourth Coffee" });
    expect(other.body.contactId).not.toBe(first.body.contactId);
  });

  it("a new strategy learns the keys of existing records", async () => {
    const address = email("old");
    const existing = await submit((await newForm()).id, { email: address, phone: "+49 30 1234" });
    const byPhone = await s().strategies.create(admin, { name: "Phone", entity: "contact", fields: ["phone"] });
    const form = await newForm("Callback", { contactStrategyId: byPhone.id });
    const matched = await submit(form.id, { email: email("new"), phone: "+49301234" });
    expect(matched.body.contactId).toBe(existing.body.contactId);
  });

  it("a converted lead does not absorb new interest: the next submission opens a new lead", async () => {
    const form = await newForm();
    const address = email("won");
    const first = await submit(form.id, { email: address });
    await db().update(leads).set({ status: "converted" }).where(eq(leads.id, first.body.leadId!));
    const next = await submit(form.id, { email: address });
    expect(next.body).toMatchObject({ contactId: first.body.contactId, created: { lead: true } });
    expect(next.body.leadId).not.toBe(first.body.leadId);
    const again = await submit(form.id, { email: address });
    expect(again.body.leadId).toBe(next.body.leadId);
  });

  it("a filled honeypot is answered as accepted and changes nothing", async () => {
    const form = await newForm();
    const address = email("bot");
    const answer = await submit(form.id, { email: address, website_url: "http://spam.example" });
    expect(answer).toMatchObject({ status: 200, spam: true, body: { contactId: null, leadId: null } });
    expect(await contactsWith(address)).toBe(0);
  });

  it.each([
    ["no email", {}, "email"],
    ["a blank email", { email: "   " }, "email"],
    ["an invalid email", { email: "not-an-email" }, "email"],
    ["an over-long name", { email: "ok@x.example", firstName: "x".repeat(101) }, "firstName"],
  ])("refuses %s with INVALID_INPUT and writes nothing", async (_name, body, field) => {
    const form = await newForm();
    const before = (await db().select({ n: count() }).from(contacts))[0]!.n;
    const err = await submit(form.id, body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe("INVALID_INPUT");
    expect((err as DomainError).details).toEqual([expect.objectContaining({ field })]);
    expect((await db().select({ n: count() }).from(contacts))[0]!.n).toBe(before);
  });

  it("registers for an event, and checks in a walk-in who never registered", async () => {
    const event = await s().events.create(admin, { name: "Summit", startsAt: "2026-12-01T09:00:00Z" }, new Date());
    const address = email("guest");
    const reg = await s().events.register(event.id, { email: address, firstName: "Gus" }, {}, new Date());
    expect(reg.status).toBe(201);
    const checkIn = await s().events.checkIn(admin, event.id, { email: address }, new Date());
    expect(checkIn).toMatchObject({ status: 200, body: { contactId: reg.body.contactId, leadId: reg.body.leadId } });
    const walkIn = await s().events.checkIn(admin, event.id, { email: email("walkin") }, new Date());
    expect(walkIn.body.created).toEqual({ contact: true, lead: true });
    const types = await db()
      .select({ type: interactions.type })
      .from(interactions)
      .where(eq(interactions.contactId, reg.body.contactId!));
    expect(types.map((x) => x.type).sort()).toEqual(["event_attended", "event_registered"]);
    expect(await s().leads.get(reg.body.leadId!)).toMatchObject({ source: "event" });
  });

  it("a journey step always creates a new lead, linked as given", async () => {
    const reg = await submit((await newForm()).id, { email: email("j"), company: "Journey Co" });
    const a = await s().records.journeyCreateLead(admin, "welcome-series", { contactId: reg.body.contactId! }, new Date());
    const b = await s().records.journeyCreateLead(admin, "welcome-series", { contactId: reg.body.contactId! }, new Date());
    expect(a.id).not.toBe(b.id);
    expect(a).toMatchObject({ source: "journey", contactId: reg.body.contactId, topic: "Journey welcome-series" });
    const account = (await db().select({ accountId: contacts.accountId }).from(contacts).where(eq(contacts.id, reg.body.contactId!)))[0]!;
    const byAccount = await s().records.journeyCreateLead(admin, "abm", { accountId: account.accountId!, topic: "ABM" }, new Date());
    expect(byAccount).toMatchObject({ contactId: null, accountId: account.accountId, scorable: true });
  });

  it("finds or creates one account per company name even under concurrency", async () => {
    const form = await newForm();
    const company = `Concurrent Corp ${serial++}`;
    await Promise.all(Array.from({ length: 5 }, () => submit(form.id, { email: email("cc"), company })));
    const rows = await db().execute(sql`select count(*)::int as n from accounts where lower(name) = lower(${company})`);
    const n = (Array.isArray(rows) ? rows[0] : (rows as { rows: Array<{ n: number }> }).rows[0]) as { n: number };
    expect(n.n).toBe(1);
  });
});
