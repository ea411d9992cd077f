import { asc, eq, sql } from "drizzle-orm";
import { accounts, contacts, leads } from "../../drizzle/schema.ts";
import type { StrategyInput } from "../../shared/schemas/intake.ts";
import type { MatchField } from "../../shared/domain/matching.ts";
import type { Db, Executor } from "../db/client.ts";
import * as matching from "../repositories/matching.ts";
import { requirePermission, type Actor } from "./actor.ts";
import { keysFor } from "./intake-service.ts";

const backfillBatch = 2000;

/** Matching strategies are data; a new one learns the keys of every existing record. */
export class StrategyService {
  constructor(private readonly db: Db) {}

  list() {
    return matching.listStrategies(this.db);
  }

  async create(actor: Actor, input: StrategyInput): Promise<matching.Strategy> {
    requirePermission(actor, "strategy.manage");
    return this.db.transaction(async (tx) => {
      const strategy = await matching.insertStrategy(tx, {
        name: input.name,
        entity: input.entity,
        fields: input.fields as MatchField[],
      });
      if (input.isDefault) await matching.setDefaultStrategy(tx, strategy);
      await backfillKeys(tx, strategy);
      return { ...strategy, isDefault: input.isDefault ?? false };
    });
  }
}

/**
 * Registers the key of every existing record under `strategy`, oldest record first, so
 * that where old records already collide the oldest one is the one future data matches.
 */
export async function backfillKeys(db: Executor, strategy: matching.Strategy): Promise<void> {
  for (let offset = 0; ; offset += backfillBatch) {
    const rows =
      strategy.entity === "contact"
        ? await db
            .select({
              id: contacts.id,
              email: contacts.email,
              firstName: contacts.firstName,
              lastName: contacts.lastName,
              phone: contacts.phone,
              country: contacts.country,
              jobTitle: contacts.jobTitle,
              company: accounts.name,
            })
            .from(contacts)
            .leftJoin(accounts, eq(accounts.id, contacts.accountId))
            .orderBy(asc(contacts.createdAt), asc(contacts.id))
            .limit(backfillBatch)
            .offset(offset)
        : await db
            .select({
              id: leads.id,
              email: contacts.email,
              firstName: contacts.firstName,
              lastName: contacts.lastName,
              company: accounts.name,
              // The marketing page id, as intake computes it (marketingPageId).
              formId: sql<string | null>`coalesce(${leads.formId}::text, ${leads.eventId}::text, ${leads.linkedinFormId})`,
              eventId: leads.eventId,
              linkedinFormId: leads.linkedinFormId,
              campaign: leads.campaign,
              topic: leads.topic,
            })
            .from(leads)
            .leftJoin(contacts, eq(contacts.id, leads.contactId))
            .leftJoin(accounts, eq(accounts.id, leads.accountId))
            .where(eq(leads.status, "open"))
            .orderBy(asc(leads.createdAt), asc(leads.id))
            .limit(backfillBatch)
            .offset(offset);
    const seen = new Set<string>();
    const entries = rows
      .flatMap((row) => keysFor([strategy], row, row.id))
      .filter((e) => (seen.has(e.key) ? false : (seen.add(e.key), true)));
    await matching.registerKeys(db, entries);
    if (rows.length < backfillBatch) return;
  }
}
