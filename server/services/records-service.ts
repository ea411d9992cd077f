import type { LeadCard } from "../../shared/board.ts";
import { leadScope } from "../../shared/domain/role-rules.ts";
import { DomainError } from "../../shared/errors.ts";
import type { JourneyCreateLeadInput } from "../../shared/schemas/intake.ts";
import type { AccountInput, ContactInput, LeadPatch } from "../../shared/schemas/records.ts";
import type { Db, Tx } from "../db/client.ts";
import * as contactsRepo from "../repositories/contacts.ts";
import * as leadsRepo from "../repositories/leads.ts";
import * as matching from "../repositories/matching.ts";
import { requirePermission, toEventActor, type Actor } from "./actor.ts";
import { contactRelinked, fieldsChanged, rebuildLeads } from "./scoring-counters.ts";
import { withBoardEvents, type CommittedEventSink, type EventLog } from "./event-log.ts";
import { keysFor } from "./intake-service.ts";
import { requireVisibleLead } from "./lead-access.ts";
import type { LeadService } from "./lead-service.ts";

const notFound = (what: string, field: string) =>
  new DomainError("INVALID_INPUT", `No such ${what}`, [{ field, message: `no ${what} with this id` }]);

/** Contacts, accounts, and the edits of a lead's own fields, by hand or by a journey step. */
export class RecordsService {
  constructor(
    private readonly db: Db,
    private readonly sink: CommittedEventSink,
    private readonly leads: LeadService,
  ) {}

  async createContact(actor: Actor, input: ContactInput, now: Date) {
    requirePermission(actor, "contact.edit");
    return this.db.transaction(async (tx) => {
      if (input.accountId && !(await contactsRepo.findAccount(tx, input.accountId))) throw notFound("account", "accountId");
      const row = await contactsRepo.insertContact(tx, { ...input, source: "manual", createdAt: now, updatedAt: now });
      await this.registerKeys(tx, row);
      return row;
    });
  }

  async getContact(id: string) {
    const row = await contactsRepo.findContact(this.db, id);
    if (!row) throw new DomainError("NOT_FOUND", "No such contact");
    return row;
  }

  listContacts(filters: Parameters<typeof contactsRepo.searchContacts>[1]) {
    return contactsRepo.searchContacts(this.db, filters);
  }

  /** An edit shows on every open card of this contact at once. */
  async updateContact(actor: Actor, id: string, patch: Partial<ContactInput>, now: Date) {
    requirePermission(actor, "contact.edit");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const before = await contactsRepo.findContact(tx, id);
      if (!before) throw new DomainError("NOT_FOUND", "No such contact");
      if (patch.accountId && !(await contactsRepo.findAccount(tx, patch.accountId))) throw notFound("account", "accountId");
      const row = await contactsRepo.updateContact(tx, id, patch, now);
      const strategies = await matching.listStrategies(tx, "contact");
      await matching.deleteKeysOfRecord(tx, id, strategies.map((s) => s.id));
      await this.registerKeys(tx, row);
      await this.refreshCards(tx, log, actor, await leadsRepo.openLeadsShowing(tx, { contactId: id }));
      // Scoring reads contact fields; a move to another account changes whose interactions count.
      if (row.accountId !== before.accountId) await contactRelinked(tx, id, [before.accountId, row.accountId], now);
      else await fieldsChanged(tx, { contactIds: [id] }, now);
      return row;
    });
  }

  async createAccount(actor: Actor, input: AccountInput, now: Date) {
    requirePermission(actor, "contact.edit");
    return contactsRepo.insertAccount(this.db, { ...input, createdAt: now, updatedAt: now });
  }

  async getAccount(id: string) {
    const row = await contactsRepo.findAccount(this.db, id);
    if (!row) throw new DomainError("NOT_FOUND", "No such account");
    return row;
  }

  listAccounts(filters: Parameters<typeof contactsRepo.searchAccounts>[1]) {
    return contactsRepo.searchAccounts(this.db, filters);
  }

  async updateAccount(actor: Actor, id: string, patch: Partial<AccountInput>, now: Date) {
    requirePermission(actor, "contact.edit");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const row = await contactsRepo.updateAccount(tx, id, { ...patch, updatedAt: now });
      if (!row) throw new DomainError("NOT_FOUND", "No such account");
      if (patch.name !== undefined) {
        await this.refreshCards(tx, log, actor, await leadsRepo.openLeadsShowing(tx, { accountId: id }));
      }
      await fieldsChanged(tx, { accountIds: [id] }, now);
      return row;
    });
  }

  /** Leads the actor may see (salespeople: sales-ready and their own), filtered in SQL so pages stay full. */
  listLeads(actor: Actor, filters: Omit<leadsRepo.LeadSearch, "visibleTo">) {
    return leadsRepo.searchLeads(this.db, { ...filters, visibleTo: leadScope(actor) });
  }

  /** Edits the lead's own fields, with a version check; linking a parent is recorded. */
  async updateLead(actor: Actor, leadId: string, patch: LeadPatch, now: Date): Promise<LeadCard> {
    requirePermission(actor, "lead.edit");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const lead = await leadsRepo.lockLead(tx, leadId);
      if (!lead) throw new DomainError("NOT_FOUND", "No such lead");
      requireVisibleLead(actor, lead);
      if (lead.version !== patch.expectedVersion) {
        throw new DomainError("CONFLICT", "Someone changed this lead first; showing its current state", {
          expectedVersion: patch.expectedVersion,
          currentVersion: lead.version,
          lead: await this.leads.get(leadId, tx),
        });
      }
      if (patch.contactId && !(await contactsRepo.findContact(tx, patch.contactId))) throw notFound("contact", "contactId");
      if (patch.accountId && !(await contactsRepo.findAccount(tx, patch.accountId))) throw notFound("account", "accountId");
      const { expectedVersion: _, ...changes } = patch;
      await leadsRepo.updateLeadState(tx, leadId, changes, now);
      for (const field of ["contactId", "accountId"] as const) {
        if (changes[field] !== undefined && changes[field] !== lead[field]) {
          await leadsRepo.insertHistory(tx, {
            leadId,
            kind: "field",
            field,
            fromValue: lead[field],
            toValue: changes[field],
            reason: "manual",
            actorId: actor.id,
            actorName: actor.name,
            at: now,
          });
        }
      }
      const card = await this.leads.get(leadId, tx);
      await log.append(await this.leads.boardIdOf(tx, card.processId), { type: "lead.updated", actor: toEventActor(actor), lead: card });
      // Whose interactions count depends on the parents and the marketing context.
      if (changes.contactId !== undefined || changes.accountId !== undefined || changes.campaign !== undefined) {
        await rebuildLeads(tx, [leadId], now);
      }
      return card;
    });
  }

  /** A customer journey's "create lead" step: always a new lead, linked as the step says. */
  async journeyCreateLead(actor: Actor, journeyId: string, input: JourneyCreateLeadInput, now: Date): Promise<LeadCard> {
    requirePermission(actor, "lead.create");
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const contact = input.contactId ? await contactsRepo.findContact(tx, input.contactId) : undefined;
      if (input.contactId && !contact) throw notFound("contact", "contactId");
      if (input.accountId && !(await contactsRepo.findAccount(tx, input.accountId))) throw notFound("account", "accountId");
      return this.leads.createInTransaction(
        tx,
        log,
        actor,
        {
          topic: input.topic?.trim() || `Journey ${journeyId}`,
          contactId: input.contactId ?? null,
          accountId: input.accountId ?? contact?.accountId ?? null,
          campaign: input.campaign ?? null,
        },
        { source: "journey", journeyId },
        now,
      );
    });
  }

  private async registerKeys(tx: Tx, contact: contactsRepo.ContactRow): Promise<void> {
    const strategies = await matching.listStrategies(tx, "contact");
    const account = contact.accountId ? await contactsRepo.findAccount(tx, contact.accountId) : undefined;
    await matching.registerKeys(tx, keysFor(strategies, { ...contact, company: account?.name ?? null }, contact.id));
  }

  /** Cards show contact and company names: re-send them (same version: nothing to conflict with). */
  private async refreshCards(tx: Tx, log: EventLog, actor: Actor, refs: Array<{ id: string; processId: string }>) {
    for (const ref of refs) {
      const card = await this.leads.get(ref.id, tx);
      await log.append(await this.leads.boardIdOf(tx, ref.processId), { type: "lead.updated", actor: toEventActor(actor), lead: card });
    }
  }
}
