import { and, asc, count, eq, gt, gte, ilike, inArray, isNotNull, isNull, lt, lte, ne, or, sql, type SQL } from "drizzle-orm";
import { alias, type PgColumn } from "drizzle-orm/pg-core";
import { accounts, contacts, leads, opportunities, segments, stages } from "../../drizzle/schema.ts";
import {
  segmentFields,
  type SegmentCondition,
  type SegmentField,
  type SegmentFieldSpec,
  type SegmentQuery,
  type SegmentSource,
} from "../../shared/schemas/segments.ts";
import type { Executor } from "../db/client.ts";

export type SegmentRow = typeof segments.$inferSelect;

export interface SegmentMember {
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  accountId: string | null;
  accountName: string | null;
}

export interface SegmentResolution {
  count: number;
  members: SegmentMember[];
}

// ---------------------------------------------------------------- CRUD

export async function listSegments(db: Executor): Promise<SegmentRow[]> {
  return db.select().from(segments).orderBy(asc(segments.name), asc(segments.id));
}

export async function findSegment(db: Executor, id: string): Promise<SegmentRow | undefined> {
  const rows = await db.select().from(segments).where(eq(segments.id, id));
  return rows[0];
}

export async function insertSegment(
  db: Executor,
  segment: { name: string; query: SegmentQuery },
  now: Date,
): Promise<SegmentRow> {
  const rows = await db
    .insert(segments)
    .values({ ...segment, createdAt: now, updatedAt: now })
    .returning();
  return rows[0]!;
}

/** Undefined when there is no such segment. */
export async function updateSegment(
  db: Executor,
  id: string,
  patch: { name?: string; query?: SegmentQuery },
  now: Date,
): Promise<SegmentRow | undefined> {
  const rows = await db
    .update(segments)
    .set({ ...patch, updatedAt: now })
    .where(eq(segments.id, id))
    .returning();
  return rows[0];
}

/** False when there was no such segment. */
export async function deleteSegment(db: Executor, id: string): Promise<boolean> {
  const rows = await db.delete(segments).where(eq(segments.id, id)).returning({ id: segments.id });
  return rows.length > 0;
}

/** The given stage keys that some process defines. */
export async function existingStageKeys(db: Executor, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db.selectDistinct({ key: stages.key }).from(stages).where(inArray(stages.key, keys));
  return new Set(rows.map((r) => r.key));
}

// ---------------------------------------------------------------- resolution

// The starting records are aliased so their subqueries never capture the outer `contacts`.
const sourceAccounts = alias(accounts, "segment_accounts");
const sourceLeads = alias(leads, "segment_leads");
const leadStages = alias(stages, "segment_lead_stages");
const sourceOpportunities = alias(opportunities, "segment_opportunities");

/** The allow-listed fields as columns; `satisfies` keeps these maps in step with the shared schema. */
const columns = {
  contacts: {
    email: contacts.email,
    firstName: contacts.firstName,
    lastName: contacts.lastName,
    jobTitle: contacts.jobTitle,
    phone: contacts.phone,
    country: contacts.country,
    accountId: contacts.accountId,
    source: contacts.source,
    createdAt: contacts.createdAt,
  } satisfies Record<SegmentField<"contacts">, PgColumn>,
  accounts: {
    name: sourceAccounts.name,
    industry: sourceAccounts.industry,
    employeeCount: sourceAccounts.employeeCount,
    annualRevenue: sourceAccounts.annualRevenue,
    country: sourceAccounts.country,
    websiteDomain: sourceAccounts.websiteDomain,
    createdAt: sourceAccounts.createdAt,
  } satisfies Record<SegmentField<"accounts">, PgColumn>,
  leads: {
    topic: sourceLeads.topic,
    campaign: sourceLeads.campaign,
    source: sourceLeads.source,
    stage: leadStages.key,
    status: sourceLeads.status,
    salesReady: sourceLeads.salesReady,
    readyForTeleprospecting: sourceLeads.readyForTeleprospecting,
    teleprospectingAccepted: sourceLeads.teleprospectingAccepted,
    salesAccepted: sourceLeads.salesAccepted,
    ownerId: sourceLeads.ownerId,
    isTest: sourceLeads.isTest,
    formId: sourceLeads.formId,
    eventId: sourceLeads.eventId,
    createdAt: sourceLeads.createdAt,
  } satisfies Record<SegmentField<"leads">, PgColumn>,
  opportunities: {
    name: sourceOpportunities.name,
    ownerId: sourceOpportunities.ownerId,
    estimatedValue: sourceOpportunities.estimatedValue,
    createdAt: sourceOpportunities.createdAt,
  } satisfies Record<SegmentField<"opportunities">, PgColumn>,
};

type Scalar = string | number | boolean;

/** Escapes LIKE's wildcards so a typed "%" or "_" matches itself (backslash is LIKE's default escape). */
export const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

// The schema has already checked values against their fields; these only narrow the type.
function single(condition: SegmentCondition): Scalar {
  const { value } = condition;
  if (value === undefined || Array.isArray(value)) throw new Error(`${condition.op} on ${condition.field} needs one value`);
  return value;
}

function list(condition: SegmentCondition): Scalar[] {
  if (!Array.isArray(condition.value)) throw new Error(`in on ${condition.field} needs a list`);
  return condition.value;
}

/**
 * Dates travel as ISO strings; the column maps a Date to the driver's format. Numbers are
 * compared as numeric: 1.5 or 1e21 against an integer column (employees) is a fair
 * question, not a value the column's type could refuse.
 */
const param = (spec: SegmentFieldSpec, value: Scalar) => {
  if (spec.type === "date" && typeof value === "string") return new Date(value);
  if (spec.type === "number" && typeof value === "number") return sql`${String(value)}::numeric`;
  return value;
};

const either = (a: SQL, b: SQL): SQL => sql`(${a} or ${b})`;

function conditionSql(column: PgColumn, spec: SegmentFieldSpec, condition: SegmentCondition): SQL {
  switch (condition.op) {
    case "eq":
      return eq(column, param(spec, single(condition)));
    case "neq":
      // "Not X" includes records with no value at all, as people reading the rule expect.
      return either(isNull(column), ne(column, param(spec, single(condition))));
    case "in":
      return inArray(
        column,
        list(condition).map((v) => param(spec, v)),
      );
    case "contains":
      return ilike(column, `%${escapeLike(String(single(condition)))}%`);
    case "exists": {
      const wanted = condition.value !== false;
      // An empty string is no more a value than NULL is (imports leave blanks).
      if (spec.type === "text") return wanted ? sql`(${column} is not null and ${column} <> '')` : sql`(${column} is null or ${column} = '')`;
      return wanted ? isNotNull(column) : isNull(column);
    }
    case "gt":
      return gt(column, param(spec, single(condition)));
    case "gte":
      return gte(column, param(spec, single(condition)));
    case "lt":
      return lt(column, param(spec, single(condition)));
    case "lte":
      return lte(column, param(spec, single(condition)));
  }
}

/** The query's conditions on its starting records; undefined when there are none (every record). */
function filterSql(query: SegmentQuery): SQL | undefined {
  const source: SegmentSource = query.from;
  const specs: Record<string, SegmentFieldSpec> = segmentFields[source];
  const cols: Record<string, PgColumn> = columns[source];
  const parts = query.where.map((condition) => {
    const column = cols[condition.field];
    const spec = specs[condition.field];
    if (!column || !spec) throw new Error(`segment field ${source}.${condition.field} is not filterable`);
    return conditionSql(column, spec, condition);
  });
  if (parts.length === 0) return undefined;
  return query.match === "any" ? or(...parts) : and(...parts);
}

/**
 * Which contacts belong, as a predicate on `contacts`. Each path is an IN over a subquery,
 * so a contact reached several ways (its own lead and its account's lead) counts once.
 */
function memberPredicate(db: Executor, query: SegmentQuery): SQL | undefined {
  const filter = filterSql(query);
  switch (query.from) {
    case "contacts":
      return filter;
    case "accounts":
      return inArray(contacts.accountId, db.select({ id: sourceAccounts.id }).from(sourceAccounts).where(filter));
    case "leads": {
      const matching = <T extends PgColumn>(target: T, extra: SQL) =>
        db
          .select({ id: target })
          .from(sourceLeads)
          .innerJoin(leadStages, eq(leadStages.id, sourceLeads.stageId))
          .where(and(extra, filter));
      // An account-based lead (no contact) stands for every contact of its account.
      return either(
        inArray(contacts.id, matching(sourceLeads.contactId, isNotNull(sourceLeads.contactId))),
        inArray(
          contacts.accountId,
          matching(sourceLeads.accountId, sql`(${isNull(sourceLeads.contactId)} and ${isNotNull(sourceLeads.accountId)})`),
        ),
      );
    }
    case "opportunities": {
      const o = sourceOpportunities;
      const matching = <T extends PgColumn>(target: T, extra: SQL) =>
        db.select({ id: target }).from(o).where(and(extra, filter));
      return either(
        inArray(contacts.id, matching(o.contactId, isNotNull(o.contactId))),
        inArray(contacts.accountId, matching(o.accountId, sql`(${isNull(o.contactId)} and ${isNotNull(o.accountId)})`)),
      );
    }
  }
}

/** How many contacts the query yields. */
export async function countSegment(db: Executor, query: SegmentQuery): Promise<number> {
  const rows = await db.select({ count: count() }).from(contacts).where(memberPredicate(db, query));
  return rows[0]?.count ?? 0;
}

/** The distinct contacts the query yields: the total, and one page ordered by name. */
export async function resolveSegment(
  db: Executor,
  query: SegmentQuery,
  page: { limit: number; offset: number },
): Promise<SegmentResolution> {
  const predicate = memberPredicate(db, query);
  const total = countSegment(db, query);
  const members =
    page.limit > 0
      ? db
          .select({
            id: contacts.id,
            email: contacts.email,
            firstName: contacts.firstName,
            lastName: contacts.lastName,
            accountId: contacts.accountId,
            accountName: accounts.name,
          })
          .from(contacts)
          .leftJoin(accounts, eq(accounts.id, contacts.accountId))
          .where(predicate)
          .orderBy(asc(contacts.lastName), asc(contacts.firstName), asc(contacts.id))
          .limit(page.limit)
          .offset(page.offset)
      : Promise.resolve([]);
  const [countValue, rows] = await Promise.all([total, members]);
  return { count: countValue, members: rows };
}
