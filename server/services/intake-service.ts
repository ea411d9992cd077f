import type { LeadCard } from "../../shared/board.ts";
import type { Db } from "../db/client.ts";
import * as contactsRepo from "../repositories/contacts.ts";
import type { Actor } from "./actor.ts";
import { withBoardEvents, type CommittedEventSink } from "./event-log.ts";
import type { LeadService, NewLeadContext } from "./lead-service.ts";

export interface Submission {
  email: string;
  firstName?: string;
  lastName?: string;
  company?: string;
  jobTitle?: string;
  country?: string;
  topic: string;
  campaign?: string;
}

/**
 * Brings a lead in the way an automatic channel does: finds the contact by email
 * (the default contact matching strategy) or creates it with its account, then
 * creates the new lead linked to it. Matching strategies per channel come with the
 * lifecycle work; this is the path the demo simulator uses.
 */
export class IntakeService {
  constructor(
    private readonly db: Db,
    private readonly sink: CommittedEventSink,
    private readonly leads: LeadService,
  ) {}

  async submit(
    actor: Actor,
    submission: Submission,
    context: NewLeadContext,
    now: Date,
  ): Promise<{ lead: LeadCard; contactCreated: boolean }> {
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      let accountId: string | null = null;
      if (submission.company) {
        const account =
          (await contactsRepo.findAccountByName(tx, submission.company)) ??
          (await contactsRepo.insertAccount(tx, { name: submission.company, country: submission.country ?? null }));
        accountId = account.id;
      }
      const existing = await contactsRepo.findContactByEmail(tx, submission.email);
      const fields = {
        firstName: submission.firstName ?? null,
        lastName: submission.lastName ?? null,
        jobTitle: submission.jobTitle ?? null,
        country: submission.country ?? null,
      };
      const contact = existing
        ? existing
        : await contactsRepo.insertContact(tx, {
            email: submission.email,
            ...fields,
            accountId,
            source: context.source,
            createdAt: now,
            updatedAt: now,
          });
      if (existing) await contactsRepo.updateContactFields(tx, existing.id, { ...fields, accountId }, now);
      const lead = await this.leads.createInTransaction(
        tx,
        log,
        actor,
        { topic: submission.topic, contactId: contact.id, campaign: submission.campaign ?? null },
        context,
        now,
      );
      return { lead, contactCreated: !existing };
    });
  }
}
