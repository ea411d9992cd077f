import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { leads } from "../../drizzle/schema.ts";
import type { InteractionType as Interaction } from "../../shared/domain/scoring.ts";
import { matchKey, mergeIncoming, type MatchValues } from "../../shared/domain/matching.ts";
import { DomainError } from "../../shared/errors.ts";
import type { LeadSource } from "../../shared/schemas/records.ts";
import type { Db, Tx } from "../db/client.ts";
import * as contactsRepo from "../repositories/contacts.ts";
import * as leadsRepo from "../repositories/leads.ts";
import * as matching from "../repositories/matching.ts";
import type { Strategy } from "../repositories/matching.ts";
import { toEventActor, type Actor } from "./actor.ts";
import { contactRelinked, fieldsChanged, rebuildLeads, recordInteractions } from "./scoring-counters.ts";
import { withBoardEvents, type CommittedEventSink, type EventLog } from "./event-log.ts";
import type { LeadService } from "./lead-service.ts";

export type InteractionType = Interaction;

/** What a person gave us, from any channel. */
export interface IntakeValues {
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  company?: string | null;
  jobTitle?: string | null;
  phone?: string | null;
  country?: string | null;
  topic?: string | null;
  campaign?: string | null;
}

/** Where it came from: the lead's marketing context and the interaction it represents. */
export interface IntakeChannel {
  source: LeadSource;
  formId?: string | null;
  eventId?: string | null;
  linkedinFormId?: string | null;
  campaign?: string | null;
  /** The topic of a new lead when the submission names none. */
  defaultTopic: string;
  interaction?: InteractionType;
  occurredAt?: Date;
  /** Test leads (LinkedIn test submissions) are kept apart: marked, and no interaction is scored. */
  isTest?: boolean;
}

export interface IntakeStrategies {
  contact: Strategy;
  lead: Strategy;
  allContact: Strategy[];
  allLead: Strategy[];
}

export interface IntakeResult {
  contactId: string | null;
  leadId: string | null;
  created: { contact: boolean; lead: boolean };
  updated: { contact: boolean; lead: boolean };
}

/** The marketing page a lead came from, which the default lead strategy matches on. */
export function marketingPageId(context: { formId?: string | null; eventId?: string | null; linkedinFormId?: string | null }) {
  return context.formId ?? context.eventId ?? context.linkedinFormId ?? null;
}

/**
 * What a person's lead is matched on: its values, the contact's email when it has a contact,
 * and the channel's marketing page, campaign and default topic. Intake (one row) and imports
 * (a batch) build it the same way, so both find the same lead.
 */
export function personLeadKey(values: MatchValues, contactEmail: string | null | undefined, channel: IntakeChannel) {
  const topic = values.topic?.trim() || channel.defaultTopic;
  const campaign = values.campaign?.trim() || channel.campaign || null;
  const keyValues: MatchValues = {
    ...values,
    email: contactEmail ?? values.email,
    // "formId" is the lead's marketing page id: the form, the event, or the LinkedIn form it came from.
    formId: marketingPageId(channel),
    eventId: channel.eventId,
    linkedinFormId: channel.linkedinFormId,
    campaign,
    topic,
  };
  return { topic, campaign, keyValues };
}

/** A person's contact fields as intake and imports store them: every field, blank ones as null. */
export function contactFields(values: IntakeValues, accountId: string | null): Required<contactsRepo.ContactChanges> {
  return {
    email: values.email?.trim() || null,
    firstName: values.firstName ?? null,
    lastName: values.lastName ?? null,
    jobTitle: values.jobTitle ?? null,
    phone: values.phone ?? null,
    country: values.country ?? null,
    accountId,
  };
}

/** The keys a record holds under each strategy that can compare all its fields. */
export function keysFor(strategies: Strategy[], values: MatchValues, recordId: string) {
  const entries: Array<{ strategyId: string; key: string; recordId: string }> = [];
  for (const strategy of strategies) {
    const key = matchKey(strategy.fields, values);
    if (key) entries.push({ strategyId: strategy.id, key, recordId });
  }
  return entries;
}

export interface IdempotencyClaim {
  scope: string;
  key: string;
}

/**
 * The one path every automatic channel takes (forms, events, LinkedIn, imports): apply
 * the channel's matching strategies, create or update the contact and the lead, and
 * credit the interaction to the matched contact. Duplicates are prevented by claiming
 * match keys in the database, so concurrent identical submissions converge.
 */
export class IntakeService {
  constructor(
    private readonly db: Db,
    private readonly sink: CommittedEventSink,
    private readonly leads: LeadService,
  ) {}

  /** The strategies a channel uses: its own pair, or the defaults. */
  async strategies(choice: { contactStrategyId?: string | null; leadStrategyId?: string | null } = {}): Promise<IntakeStrategies> {
    const all = await matching.listStrategies(this.db);
    const pick = (entity: "contact" | "lead", id: string | null | undefined) => {
      const found = id ? all.find((s) => s.id === id && s.entity === entity) : all.find((s) => s.entity === entity && s.isDefault);
      if (!found) {
        throw new DomainError("INVALID_INPUT", `No ${entity} matching strategy ${id ?? "(default)"}`, [
          { field: `${entity}StrategyId`, message: "unknown matching strategy" },
        ]);
      }
      return found;
    };
    return {
      contact: pick("contact", choice.contactStrategyId),
      lead: pick("lead", choice.leadStrategyId),
      allContact: all.filter((s) => s.entity === "contact"),
      allLead: all.filter((s) => s.entity === "lead"),
    };
  }

  /** One submission in its own transaction; with an idempotency key a retry answers the first result. */
  async ingest(
    actor: Actor,
    channel: IntakeChannel,
    values: IntakeValues,
    strategies: IntakeStrategies,
    now: Date,
    idempotency?: IdempotencyClaim,
  ): Promise<{ result: IntakeResult; replayed: boolean }> {
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      if (idempotency) {
        const earlier = await matching.claimIdempotencyKey(tx, idempotency.scope, idempotency.key);
        if (earlier) return { result: earlier.response as IntakeResult, replayed: true };
      }
      const result = await this.ingestInTransaction(tx, log, actor, channel, values, strategies, now);
      if (idempotency) await matching.storeIdempotentResponse(tx, idempotency.scope, idempotency.key, 200, result);
      return { result, replayed: false };
    });
  }

  async ingestInTransaction(
    tx: Tx,
    log: EventLog,
    actor: Actor,
    channel: IntakeChannel,
    values: IntakeValues,
    strategies: IntakeStrategies,
    now: Date,
  ): Promise<IntakeResult> {
    const contact = await this.upsertContact(tx, strategies, values, channel.source, now);
    const lead = await this.upsertLead(tx, log, actor, strategies, contact.row, values, channel, now);
    if (contact.changedAccount) await contactRelinked(tx, contact.row!.id, contact.changedAccount, now);
    else if (contact.updated && contact.row) await fieldsChanged(tx, { contactIds: [contact.row.id] }, now);
    if (channel.interaction && contact.row && !channel.isTest) {
      await recordInteractions(
        tx,
        [
          {
            type: channel.interaction,
            contactId: contact.row.id,
            occurredAt: channel.occurredAt ?? now,
            formId: channel.formId ?? null,
            eventId: channel.eventId ?? null,
            campaign: values.campaign ?? channel.campaign ?? null,
          },
        ],
        now,
      );
    }
    return {
      contactId: contact.row?.id ?? null,
      leadId: lead.id,
      created: { contact: contact.created, lead: lead.created },
      updated: { contact: contact.updated, lead: lead.updated },
    };
  }

  /** Finds the contact the strategy matches and merges into it, or creates it. */
  async upsertContact(
    tx: Tx,
    strategies: IntakeStrategies,
    values: IntakeValues,
    source: LeadSource,
    now: Date,
  ): Promise<{ row: contactsRepo.ContactRow | null; created: boolean; updated: boolean; changedAccount?: Array<string | null> }> {
    const accountId = values.company ? await this.findOrCreateAccount(tx, values.company, values.country ?? null, now) : null;
    const incoming: contactsRepo.ContactChanges = contactFields(values, accountId);
    const hasIdentity = Object.values(incoming).some((v) => typeof v === "string" && v.trim() !== "");
    if (!hasIdentity) return { row: null, created: false, updated: false };
    const key = matchKey(strategies.contact.fields, values);
    const newId = randomUUID();
    const owner = key ? await matching.claimKey(tx, strategies.contact.id, key, newId) : newId;
    const existing = owner === newId ? undefined : await contactsRepo.findContact(tx, owner);
    if (owner !== newId && existing) {
      const changes = mergeIncoming(existing, incoming);
      if (Object.keys(changes).length === 0) return { row: existing, created: false, updated: false };
      const row = await contactsRepo.updateContact(tx, existing.id, changes, now);
      await this.registerContactKeys(tx, strategies, row, values.company ?? null);
      const changedAccount = row.accountId !== existing.accountId ? [existing.accountId, row.accountId] : undefined;
      return { row, created: false, updated: true, ...(changedAccount ? { changedAccount } : {}) };
    }
    // The key pointed at a contact that no longer exists: it is ours now.
    if (owner !== newId && key) await matching.repointKey(tx, strategies.contact.id, key, newId);
    const row = await contactsRepo.insertContact(tx, {
      id: newId,
      ...Object.fromEntries(Object.entries(incoming).map(([k, v]) => [k, typeof v === "string" ? v.trim() || null : v])),
      source,
      createdAt: now,
      updatedAt: now,
    });
    await this.registerContactKeys(tx, strategies, row, values.company ?? null);
    return { row, created: true, updated: false };
  }

  private async upsertLead(
    tx: Tx,
    log: EventLog,
    actor: Actor,
    strategies: IntakeStrategies,
    contact: contactsRepo.ContactRow | null,
    values: IntakeValues,
    channel: IntakeChannel,
    now: Date,
  ): Promise<{ id: string; created: boolean; updated: boolean }> {
    const { topic, campaign, keyValues } = personLeadKey(values, contact?.email, channel);
    const key = matchKey(strategies.lead.fields, keyValues);
    const newId = randomUUID();
    const owner = key ? await matching.claimKey(tx, strategies.lead.id, key, newId) : newId;
    if (owner !== newId) {
      const existing = await leadsRepo.lockLead(tx, owner);
      if (existing && existing.status === "open") {
        const changes = mergeIncoming(
          { topic: existing.topic, campaign: existing.campaign, contactId: existing.contactId },
          { topic: values.topic?.trim() || undefined, campaign: values.campaign?.trim() || undefined, contactId: existing.contactId ?? contact?.id },
        );
        if (Object.keys(changes).length === 0) return { id: existing.id, created: false, updated: false };
        await tx
          .update(leads)
          .set({ ...changes, version: existing.version + 1, updatedAt: now })
          .where(eq(leads.id, existing.id));
        const card = await this.leads.get(existing.id, tx);
        await log.append(await this.leads.boardIdOf(tx, card.processId), {
          type: "lead.updated",
          actor: toEventActor(actor),
          lead: card,
        });
        if (changes.contactId !== undefined || changes.campaign !== undefined) await rebuildLeads(tx, [existing.id], now);
        return { id: existing.id, created: false, updated: true };
      }
      // A converted or disqualified lead does not absorb new interest: a new lead takes its key.
      if (key) await matching.repointKey(tx, strategies.lead.id, key, newId);
    }
    await this.leads.createInTransaction(
      tx,
      log,
      actor,
      { topic, contactId: contact?.id ?? null, accountId: contact?.accountId ?? null, campaign },
      {
        id: newId,
        source: channel.source,
        formId: channel.formId ?? null,
        eventId: channel.eventId ?? null,
        linkedinFormId: channel.linkedinFormId ?? null,
        isTest: channel.isTest ?? false,
      },
      now,
    );
    await matching.registerKeys(tx, keysFor(strategies.allLead, keyValues, newId));
    return { id: newId, created: true, updated: false };
  }

  /** Keeps every contact strategy able to find this contact by its current values. */
  private async registerContactKeys(
    tx: Tx,
    strategies: IntakeStrategies,
    contact: contactsRepo.ContactRow,
    company: string | null,
  ): Promise<void> {
    const values: MatchValues = { ...contact, company };
    await matching.registerKeys(tx, keysFor(strategies.allContact, values, contact.id));
  }

  /** Accounts are matched by name; an advisory lock makes concurrent find-or-create safe. */
  async findOrCreateAccount(tx: Tx, name: string, country: string | null, now: Date): Promise<string> {
    await matching.lockName(tx, "account", name);
    const existing = await contactsRepo.findAccountByName(tx, name);
    if (existing) return existing.id;
    const created = await contactsRepo.insertAccount(tx, { name: name.trim(), country, createdAt: now, updatedAt: now });
    return created.id;
  }
}
