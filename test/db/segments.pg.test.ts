import { asc, count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { contacts, leads, opportunities, processes, segments, stages } from "../../drizzle/schema.ts";
import { issuesToDetails } from "../../shared/schemas/common.ts";
import { segmentInput, segmentPatch, segmentQuery, type SegmentQueryInput } from "../../shared/schemas/segments.ts";
import type { Db } from "../../server/db/client.ts";
import { insertAccount } from "../../server/repositories/contacts.ts";
import { resolveSegment } from "../../server/repositories/segments.ts";
import type { Actor } from "../../server/services/actor.ts";
import { AuthService } from "../../server/services/auth-service.ts";
import { SegmentService } from "../../server/services/segment-service.ts";
import { makeContact, makeUser } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { rejection } from "../support/assertions.ts";

const c = (field: string, op: string, value?: unknown) => (value === undefined ? { field, op } : { field, op, value });
const problems = (input: unknown, schema: z.ZodType = segmentQuery) => {
  const result = schema.safeParse(input);
  return result.success ? [] : issuesToDetails(result.error);
};

describe("segment query validation", () => {
  const uuid = "7f1e7c1e-2b4e-4c55-9d0a-1a2b3c4d5e6f";
  it.each([
    ["an unknown field", { from: "contacts", where: [c("salary", "eq", 1)] }, "where.0.field", 'contacts have no field "salary"'],
    ["another record's field", { from: "accounts", where: [c("email", "eq", "a")] }, "where.0.field", "use one of: name, industry"],
    ["contains on a number", { from: "accounts", where: [c("employeeCount", "contains", "5")] }, "where.0.op", '"contains" does not apply to employeeCount (number)'],
    ["gt on a boolean", { from: "leads", where: [c("salesReady", "gt", true)] }, "where.0.op", "use one of: eq, neq, exists"],
    ["gt on text", { from: "contacts", where: [c("lastName", "gt", "M")] }, "where.0.op", '"gt" does not apply to lastName (text)'],
    ["eq on a date", { from: "contacts", where: [c("createdAt", "eq", "2024-01-01")] }, "where.0.op", "use one of: gt, gte, lt, lte, exists"],
    ["an unknown op", { from: "contacts", where: [c("email", "like", "a")] }, "where.0.op", "must be one of: eq, neq, in"],
    ["in with an empty list", { from: "contacts", where: [c("country", "in", [])] }, "where.0.value", '"in" needs a non-empty list'],
    ["in with one value", { from: "contacts", where: [c("country", "in", "FR")] }, "where.0.value", '"in" needs a non-empty list'],
    ["in with a bad item", { from: "leads", where: [c("ownerId", "in", [uuid, "nope"])] }, "where.0.value.1", "must be an id (uuid)"],
    ["eq without a value", { from: "contacts", where: [c("email", "eq")] }, "where.0.value", '"eq" needs a value'],
    ["eq with a list", { from: "contacts", where: [c("email", "eq", ["a"])] }, "where.0.value", 'use "in" for a list'],
    ["exists with text", { from: "contacts", where: [c("phone", "exists", "yes")] }, "where.0.value", '"exists" takes true, false or no value'],
    ["a number as text", { from: "accounts", where: [c("employeeCount", "gt", "10")] }, "where.0.value", "must be a number"],
    ["a bad date", { from: "leads", where: [c("createdAt", "gt", "yesterday")] }, "where.0.value", "must be a date"],
    ["a bad enum value", { from: "leads", where: [c("status", "eq", "won")] }, "where.0.value", "must be one of: open, converted, disqualified"],
    ["a boolean as text", { from: "leads", where: [c("isTest", "eq", "true")] }, "where.0.value", "must be true or false"],
    ["text as a number", { from: "contacts", where: [c("country", "eq", 33)] }, "where.0.value", "must be a string"],
    ["an empty contains", { from: "contacts", where: [c("email", "contains", "")] }, "where.0.value", '"contains" needs some text'],
    ["an object value", { from: "contacts", where: [c("email", "eq", { $ne: 1 })] }, "where.0.value", "must be a string, number, boolean"],
    ["an extra key", { from: "contacts", where: [{ field: "email", op: "eq", value: "a", not: true }] }, "where.0", "not"],
    ["the second condition", { from: "contacts", where: [c("email", "exists"), c("owner", "eq", "x")] }, "where.1.field", "no field"],
    ["an unknown starting point", { from: "deals", where: [] }, "from", "must be one of: contacts, accounts, leads, opportunities"],
    ["a bad match", { from: "contacts", where: [], match: "some" }, "match", "must be all or any"],
    ["too many conditions", { from: "contacts", where: Array.from({ length: 21 }, () => c("email", "exists")) }, "where", "at most 20"],
  ])("rejects %s", (_name, query, field, message) => {
    const details = problems(query);
    expect(details).toHaveLength(1);
    expect(details[0]!.field).toBe(field);
    expect(details[0]!.message).toContain(message);
  });

  it("accepts each type's ops, defaults match to all, and nests paths under query in inputs", () => {
    const query: SegmentQueryInput = {
      from: "leads",
      where: [c("stage", "in", ["inquiry"]), c("salesReady", "eq", false), c("createdAt", "gte", "2024-01-01T00:00:00Z"), c("campaign", "exists", false)] as SegmentQueryInput["where"],
    };
    expect(segmentQuery.parse(query).match).toBe("all");
    expect(problems({ name: "  ", query: { from: "contacts", where: [c("x", "eq", 1)] } }, segmentInput)).toEqual([
      { field: "name", message: "must not be empty" },
      { field: "query.where.0.field", message: expect.stringContaining("no field") },
    ]);
    expect(problems({}, segmentPatch)).toEqual([{ field: "(body)", message: "give a name, a query, or both" }]);
  });
});

describe.each(drivers)("segments on %s", (driver) => {
  let t: TestDatabase;
  let db: Db;
  let service: SegmentService;
  let admin: Actor;
  let viewer: Actor;
  let ownerId: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    db = t.database.db;
    service = new SegmentService(db);
    const auth = new AuthService(db);
    const owner = await makeUser(auth, "salesperson");
    ownerId = owner.user.id;
    ids.owner = ownerId;
    admin = (await makeUser(auth, "admin")).actor;
    viewer = (await makeUser(auth, "viewer")).actor;
    await buildDataSet();
  });
  afterAll(() => t?.close());

  async function buildDataSet() {
    const acme = await insertAccount(db, { name: "Acme Robotics", industry: "Manufacturing", employeeCount: 500, annualRevenue: 2_500_000.5, country: "FR", websiteDomain: "acme.example" });
    const globex = await insertAccount(db, { name: "Globex", industry: "Software", employeeCount: 50, country: "DE" });
    await insertAccount(db, { name: "Initech", employeeCount: 5, annualRevenue: 10_000, country: "FR" });
    ids.acme = acme.id;
    const person = async (firstName: string, lastName: string, fields: Parameters<typeof makeContact>[1]) =>
      (ids[lastName] = (await makeContact(db, { firstName, lastName, ...fields })).id);
    await person("Ada", "Lovelace", { accountId: acme.id, email: "ada@acme.example", jobTitle: "CTO", country: "FR", source: "import" });
    await person("Brian", "Kernighan", { accountId: acme.id, email: "brian@acme.example", jobTitle: "Engineer", country: null });
    await person("Carol", "Shaw", { accountId: globex.id, email: "carol@globex.example", jobTitle: "Head of Sales", country: "DE", source: "form" });
    await person("Frances", "Allen", { accountId: globex.id, email: "frances@globex.example", jobTitle: "", country: "DE" });
    await person("Dennis", "Ritchie", { email: "dennis_100%@example.org", jobTitle: null, country: "US", source: "event" });
    await person("Edsger", "Dijkstra", { email: null, phone: "+31 20 000", country: "NL" });

    const [process] = await db.select().from(processes).where(eq(processes.isDefault, true));
    const stageRows = await db.select().from(stages).where(eq(stages.processId, process!.id)).orderBy(asc(stages.position));
    const stageId = (key: string) => stageRows.find((s) => s.key === key)!.id;
    let rank = 0;
    const lead = async (values: Omit<typeof leads.$inferInsert, "processId" | "stageId" | "rank">, stage = "inquiry") =>
      (await db.insert(leads).values({ processId: process!.id, stageId: stageId(stage), rank: `a${rank++}`, ...values }).returning())[0]!;
    await lead({ topic: "Pricing enquiry", contactId: ids.Ritchie, campaign: "Spring_Promo", salesReady: true, ownerId, source: "form" });
    await lead({ topic: "Pricing follow-up", contactId: ids.Ritchie, campaign: "Spring_Promo" });
    await lead({ topic: "Fleet deal", accountId: acme.id, campaign: "Spring 2025" }, "automated_marketing_qualification");
    await lead({ topic: "Renewal", contactId: ids.Shaw, accountId: globex.id, status: "disqualified" });
    await lead({ topic: "Orphan", isTest: true });
    const expansion = await lead({ topic: "Expansion", accountId: globex.id }, "teleprospecting_acceptance");
    const consulting = await lead({ topic: "Consulting", contactId: ids.Dijkstra });
    await db.insert(opportunities).values([
      { leadId: expansion.id, name: "Globex expansion", accountId: globex.id, estimatedValue: 10_000 },
      // Its contact is named, so the account's other contacts stay out.
      { leadId: consulting.id, name: "Dijkstra consulting", contactId: ids.Dijkstra, accountId: acme.id, estimatedValue: 50_000, ownerId },
    ]);
  }

  const resolve = (query: SegmentQueryInput, page = { limit: 100, offset: 0 }) => resolveSegment(db, segmentQuery.parse(query), page);
  const all = ["Allen", "Dijkstra", "Kernighan", "Lovelace", "Ritchie", "Shaw"];

  it.each<[string, SegmentQueryInput["from"], Array<ReturnType<typeof c>>, string[], ("all" | "any")?]>([
    ["every contact", "contacts", [], all],
    ["eq", "contacts", [c("lastName", "eq", "Shaw")], ["Shaw"]],
    ["case-insensitive contains", "contacts", [c("email", "contains", "ACME")], ["Kernighan", "Lovelace"]],
    ["contains with LIKE wildcards taken literally", "contacts", [c("email", "contains", "_100%")], ["Ritchie"]],
    ["in", "contacts", [c("country", "in", ["FR", "DE"])], ["Allen", "Lovelace", "Shaw"]],
    ["neq, which keeps empty values", "contacts", [c("country", "neq", "DE")], ["Dijkstra", "Kernighan", "Lovelace", "Ritchie"]],
    ["exists", "contacts", [c("jobTitle", "exists")], ["Kernighan", "Lovelace", "Shaw"]],
    ["exists false, counting blanks as empty", "contacts", [c("jobTitle", "exists", false)], ["Allen", "Dijkstra", "Ritchie"]],
    ["an id", "contacts", [c("accountId", "eq", "@acme")], ["Kernighan", "Lovelace"]],
    ["an enum", "contacts", [c("source", "in", ["import", "form"])], ["Lovelace", "Shaw"]],
    ["a date after", "contacts", [c("createdAt", "gte", "2000-01-01")], all],
    ["a date before", "contacts", [c("createdAt", "lt", "2000-01-01T00:00:00Z")], []],
    ["all of two", "contacts", [c("lastName", "eq", "Shaw"), c("country", "eq", "US")], []],
    ["any of two", "contacts", [c("lastName", "eq", "Shaw"), c("country", "eq", "US")], ["Ritchie", "Shaw"], "any"],
    ["accounts by text", "accounts", [c("industry", "eq", "Manufacturing")], ["Kernighan", "Lovelace"]],
    ["accounts by gte", "accounts", [c("employeeCount", "gte", 50)], ["Allen", "Kernighan", "Lovelace", "Shaw"]],
    ["accounts without contacts", "accounts", [c("employeeCount", "lt", 10)], []],
    ["accounts by a missing number", "accounts", [c("annualRevenue", "exists", false)], ["Allen", "Shaw"]],
    ["accounts by a decimal", "accounts", [c("annualRevenue", "gt", 1_000_000)], ["Kernighan", "Lovelace"]],
    ["accounts by any", "accounts", [c("name", "eq", "Initech"), c("country", "eq", "DE")], ["Allen", "Shaw"], "any"],
    ["accounts by domain", "accounts", [c("websiteDomain", "contains", "ACME.")], ["Kernighan", "Lovelace"]],
    ["an account-based lead by stage", "leads", [c("stage", "eq", "automated_marketing_qualification")], ["Kernighan", "Lovelace"]],
    ["leads by flag", "leads", [c("salesReady", "eq", true)], ["Ritchie"]],
    ["leads by escaped contains", "leads", [c("campaign", "contains", "spring_")], ["Ritchie"]],
    ["leads reaching a contact twice", "leads", [c("campaign", "contains", "spring")], ["Kernighan", "Lovelace", "Ritchie"]],
    ["a contact-based lead with an account", "leads", [c("topic", "eq", "Renewal")], ["Shaw"]],
    ["both lead kinds, distinct", "leads", [c("topic", "in", ["Renewal", "Expansion"])], ["Allen", "Shaw"]],
    ["leads by owner", "leads", [c("ownerId", "eq", "@owner")], ["Ritchie"]],
    ["a lead with neither contact nor account", "leads", [c("isTest", "eq", true)], []],
    ["leads by status", "leads", [c("status", "eq", "disqualified")], ["Shaw"]],
    ["leads by stage and flag", "leads", [c("stage", "in", ["inquiry"]), c("salesReady", "neq", true)], ["Dijkstra", "Ritchie", "Shaw"]],
    ["leads by source", "leads", [c("source", "eq", "form")], ["Ritchie"]],
    ["an account-based opportunity", "opportunities", [c("name", "eq", "Globex expansion")], ["Allen", "Shaw"]],
    ["an opportunity with a contact", "opportunities", [c("estimatedValue", "gt", 20_000)], ["Dijkstra"]],
    ["opportunities without owner", "opportunities", [c("ownerId", "exists", false)], ["Allen", "Shaw"]],
    ["opportunities by any", "opportunities", [c("name", "contains", "globex"), c("estimatedValue", "gte", 50_000)], ["Allen", "Dijkstra", "Shaw"], "any"],
  ])("resolves %s", async (_name, from, where, expected, match) => {
    // The table names ids ("@acme"); they exist only once the data set does.
    const lookup = (v: unknown) => (typeof v === "string" && v.startsWith("@") ? ids[v.slice(1)] : v);
    const query = { from, match, where: where.map((w) => ("value" in w ? { ...w, value: lookup(w.value) } : w)) } as SegmentQueryInput;
    const result = await resolve(query);
    expect(result.members.map((m) => m.lastName)).toEqual(expected);
    expect(result.count).toBe(expected.length);
  });

  it("answers members with their account, and pages them in name order while the count stays whole", async () => {
    const query: SegmentQueryInput = { from: "contacts", where: [] };
    const first = await resolve(query, { limit: 4, offset: 0 });
    const second = await resolve(query, { limit: 4, offset: 4 });
    const beyond = await resolve(query, { limit: 4, offset: 10 });
    expect([first.count, second.count, beyond.count]).toEqual([6, 6, 6]);
    expect([...first.members, ...second.members].map((m) => m.lastName)).toEqual(all);
    expect(beyond.members).toEqual([]);
    expect(first.members.find((m) => m.lastName === "Lovelace")).toEqual({
      id: ids.Lovelace,
      email: "ada@acme.example",
      firstName: "Ada",
      lastName: "Lovelace",
      accountId: ids.acme,
      accountName: "Acme Robotics",
    });
  });

  it("previews a query without changing anything, for viewers too", async () => {
    const before = await Promise.all([db.select({ n: count() }).from(segments), db.select({ n: count() }).from(contacts)]);
    const preview = await service.preview(viewer, segmentQuery.parse({ from: "accounts", where: [c("country", "eq", "FR")] }));
    expect(preview.count).toBe(2);
    expect(preview.members.map((m) => m.lastName)).toEqual(["Kernighan", "Lovelace"]);
    const after = await Promise.all([db.select({ n: count() }).from(segments), db.select({ n: count() }).from(contacts)]);
    expect(after).toEqual(before);
  });

  it("creates, reads, pages, edits and deletes a segment; viewers may only read", async () => {
    const query = segmentQuery.parse({ from: "leads", where: [c("topic", "in", ["Renewal", "Expansion"])] });
    const created = await service.create(admin, { name: "Globex people", query });
    expect(created).toMatchObject({ name: "Globex people", query: { from: "leads", match: "all" } });
    expect(await service.get(viewer, created.id)).toMatchObject({ id: created.id, count: 2 });
    expect((await service.list(viewer)).map((s) => s.id)).toContain(created.id);
    const page = await service.members(viewer, created.id, { limit: 1, offset: 1 });
    expect(page).toMatchObject({ count: 2, members: [{ lastName: "Shaw" }] });
    const renamed = await service.update(admin, created.id, { name: "Renamed" });
    expect(renamed).toMatchObject({ name: "Renamed", query });
    const requeried = await service.update(admin, created.id, { query: segmentQuery.parse({ from: "contacts", where: [] }) });
    expect((await service.get(admin, requeried.id)).count).toBe(6);
    expect((await rejection(service.create(viewer, { name: "No", query }))).code).toBe("FORBIDDEN");
    expect((await rejection(service.delete(viewer, created.id))).code).toBe("FORBIDDEN");
    await service.delete(admin, created.id);
    expect((await rejection(service.get(admin, created.id))).code).toBe("NOT_FOUND");
    expect((await rejection(service.delete(admin, created.id))).code).toBe("NOT_FOUND");
    expect((await rejection(service.update(admin, created.id, { name: "x" }))).code).toBe("NOT_FOUND");
  });

  it("refuses stage keys no process has, naming the value", async () => {
    const query = segmentQuery.parse({ from: "leads", where: [c("salesReady", "eq", true), c("stage", "in", ["inquiry", "won"])] });
    const err = await rejection(service.preview(admin, query));
    expect(err.code).toBe("INVALID_INPUT");
    expect(err.details).toEqual([{ field: "query.where.1.value.1", message: 'no stage has the key "won"' }]);
    const before = await db.select({ n: count() }).from(segments);
    expect((await rejection(service.create(admin, { name: "Won", query }))).code).toBe("INVALID_INPUT");
    expect(await db.select({ n: count() }).from(segments)).toEqual(before);
  });
});

