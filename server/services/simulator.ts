import { and, asc, desc, eq, isNotNull, lt, lte, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { accounts, contacts, interactions, leads, leadScores, scoringModels, stages } from "../../drizzle/schema.ts";
import type { InteractionType } from "../../shared/domain/scoring.ts";
import type { Db } from "../db/client.ts";
import { systemActor } from "./actor.ts";
import {
  campaigns,
  companies,
  contactCountries,
  domainOf,
  emailFor,
  firstNames,
  jobTitles,
  lastNames,
  personalEmailDomain,
  pick,
  pickWeighted,
  prospectCompanyWords,
  topics,
  websitePages,
} from "./demo-data.ts";
import type { EventService } from "./event-service.ts";
import type { FormService } from "./form-service.ts";
import type { IntakeValues } from "./intake-service.ts";
import { recordInteractions, type InteractionRecord } from "./scoring-counters.ts";

/** Ticks per submission: engagement (opens, clicks, visits) comes this many times as often as submissions. */
const ticksPerSubmission = 3;
/** Of the engagement, the share aimed at the warmest leads still short of the threshold. */
const hotShare = 0.1;
/** Of the submissions, the share from people already known: coming back to their own form, or a new interest. */
const returningShare = 0.25;
const newInterestShare = 0.1;

const checkInDesk = systemActor("Event check-in");

/** What a simulated person types into a form (a plain record, as a request body is). */
type Submission = { [K in keyof IntakeValues]?: string };

interface KnownContact {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  jobTitle: string | null;
  country: string | null;
  company: string | null;
  /** The form of one of its open leads: a new submission there updates that lead. */
  formId: string | null;
  /** One of its open leads is sales-ready already. */
  salesReady: boolean;
}

export interface TickReport {
  engagement: Array<{ type: InteractionType; contactId: string; hot: boolean }>;
  submission: "form" | "registration" | "check_in" | null;
}

/**
 * Keeps a demo board alive the way real sources would. Every tick, an email tool and a
 * web tracker report opens, clicks and visits of known contacts (recorded as integrations
 * record them, then scored live); about one tick in three, a landing page, an event
 * registration page or the check-in desk at an event brings someone in through the same
 * services as the public endpoints. Part of the engagement goes to the warmest leads still
 * short of the sales-ready threshold, so one crosses it every minute or two.
 */
export class DemoSimulator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private serial = 0;
  private readonly runTag: string;

  constructor(
    private readonly deps: {
      db: Db;
      forms: FormService;
      events: EventService;
      logger: Logger;
      now: () => Date;
      /** Mean time between submissions (forms, registrations, check-ins). */
      meanIntervalMs: number;
      /** Tells live scoring that interactions were recorded in this process. */
      wakeScoring: () => void;
      random?: () => number;
    },
  ) {
    this.runTag = deps.now().getTime().toString(36).slice(-5);
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Waits for a tick in progress, so shutdown never cuts one in half. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  async tick(): Promise<TickReport> {
    const random = this.deps.random ?? Math.random;
    const now = this.deps.now();
    const [known, hot] = await Promise.all([this.knownContacts(), this.warmestContacts()]);
    const engagement = this.engagement(random, known, hot, now);
    if (engagement.length > 0) {
      await this.deps.db.transaction((tx) => recordInteractions(tx, engagement.map((e) => e.record), now));
      this.deps.wakeScoring();
    }
    let submission: TickReport["submission"] = null;
    if (random() < 1 / ticksPerSubmission) submission = await this.submit(random, known, hot, now);
    const report = { engagement: engagement.map((e) => ({ type: e.record.type, contactId: e.record.contactId, hot: e.hot })), submission };
    this.deps.logger.debug(report, "simulator: tick");
    return report;
  }

  private engagement(random: () => number, known: KnownContact[], hot: string[], now: Date): Array<{ record: InteractionRecord; hot: boolean }> {
    if (known.length === 0) return [];
    const count = 1 + (random() < 0.6 ? 1 : 0) + (random() < 0.25 ? 1 : 0);
    const out: Array<{ record: InteractionRecord; hot: boolean }> = [];
    for (let i = 0; i < count; i++) {
      const toHot = hot.length > 0 && random() < hotShare;
      const contactId = toHot ? pickWeighted(random, hot.map((id, rank) => [id, [6, 2.5, 1.5][rank] ?? 1] as const)) : pick(random, known).id;
      const type = pickWeighted<InteractionType>(
        random,
        toHot
          ? [["email_clicked", 5], ["website_visited", 3.5], ["email_opened", 1.5]]
          : [["email_opened", 5], ["website_visited", 3], ["email_clicked", 2]],
      );
      const detail = type === "website_visited" ? { url: pick(random, websitePages) } : { campaign: pick(random, campaigns) };
      out.push({ record: { type, contactId, occurredAt: now, ...detail }, hot: toHot });
    }
    return out;
  }

  /** A landing-page submission, an event registration or a check-in at the door. */
  private async submit(random: () => number, known: KnownContact[], hot: string[], now: Date): Promise<TickReport["submission"]> {
    const [forms, events] = await Promise.all([this.deps.forms.list(), this.deps.events.list()]);
    const kind = pickWeighted<NonNullable<TickReport["submission"]>>(random, [
      ["form", forms.length > 0 ? 6 : 0],
      ["registration", events.length > 0 ? 2 : 0],
      ["check_in", events.length > 0 ? 1 : 0],
    ]);
    // People whose leads sales already has would bring in sales-ready leads at once: they stay away.
    const nurtured = known.filter((c) => !c.salesReady);
    const someone = (): { values: Submission; contact: KnownContact | null } => {
      const r = random();
      const returning = nurtured.filter((c) => c.formId !== null);
      if (returning.length > 0 && r < returningShare) {
        const warm = hot.length > 0 && random() < 0.3 ? returning.find((c) => c.id === hot[0]) : undefined;
        const contact = warm ?? pick(random, returning);
        return { values: valuesOf(contact), contact };
      }
      if (nurtured.length > 0 && r < returningShare + newInterestShare) {
        const contact = { ...pick(random, nurtured), formId: null };
        return { values: valuesOf(contact), contact };
      }
      return { values: this.newVisitor(random), contact: null };
    };
    if (kind === "form" && forms.length > 0) {
      const { values, contact } = someone();
      const own = contact?.formId ? forms.find((f) => f.id === contact.formId) : undefined;
      // Someone known coming back to their own form updates that lead; elsewhere it is a new interest.
      const form = own ?? pick(random, forms);
      const answer = await this.deps.forms.submit(form.id, own ? values : { ...values, topic: pick(random, topics) }, {}, now);
      this.deps.logger.debug({ ...answer.body }, "simulator: form submission");
      return "form";
    }
    if (kind === "registration") {
      const upcoming = events.filter((e) => new Date(e.startsAt).getTime() > now.getTime());
      const event = pick(random, upcoming.length > 0 ? upcoming : events);
      const answer = await this.deps.events.register(event.id, someone().values, {}, now);
      this.deps.logger.debug({ ...answer.body }, "simulator: event registration");
      return "registration";
    }
    if (kind === "check_in") {
      // The event nearest to now is the one happening; its registrants arrive, now and then a walk-in.
      const event = [...events].sort((a, b) => Math.abs(new Date(a.startsAt).getTime() - now.getTime()) - Math.abs(new Date(b.startsAt).getTime() - now.getTime()))[0]!;
      const registrants = (await this.registrantsNotCheckedIn(event.id)).filter((c) => !c.salesReady);
      const values = registrants.length > 0 && random() < 0.8 ? valuesOf(pick(random, registrants)) : someone().values;
      const answer = await this.deps.events.checkIn(checkInDesk, event.id, values, now);
      this.deps.logger.debug({ ...answer.body }, "simulator: event check-in");
      return "check_in";
    }
    return null;
  }

  private newVisitor(random: () => number): Submission {
    const firstName = pick(random, firstNames);
    const lastName = pick(random, lastNames);
    const [company, country] =
      random() < 0.2
        ? (([name, , country]) => [name, country] as const)(pick(random, companies))
        : ([`${pick(random, prospectCompanyWords[0])} ${pick(random, prospectCompanyWords[1])}`, pick(random, contactCountries)] as const);
    const domain = random() < 0.08 ? personalEmailDomain : domainOf(company);
    return {
      email: emailFor(firstName, lastName, domain, `${this.runTag}${++this.serial}`),
      firstName,
      lastName,
      company,
      country,
      jobTitle: pick(random, jobTitles),
      topic: pick(random, topics),
    };
  }

  /** Contacts with an open lead: the people whose engagement the board can show. */
  private async knownContacts(): Promise<KnownContact[]> {
    return this.deps.db
      .selectDistinctOn([contacts.id], {
        id: contacts.id,
        email: sql<string>`${contacts.email}`,
        firstName: contacts.firstName,
        lastName: contacts.lastName,
        jobTitle: contacts.jobTitle,
        country: contacts.country,
        company: accounts.name,
        formId: leads.formId,
        salesReady: sql<boolean>`exists (select 1 from ${leads} r where r.contact_id = ${contacts.id} and r.status = 'open' and r.sales_ready)`,
      })
      .from(contacts)
      .innerJoin(leads, and(eq(leads.contactId, contacts.id), eq(leads.status, "open"), eq(leads.isTest, false)))
      .leftJoin(accounts, eq(accounts.id, contacts.accountId))
      .where(isNotNull(contacts.email))
      .orderBy(asc(contacts.id), asc(leads.formId))
      .limit(5_000);
  }

  /** The contacts of the three leads in the first two stages closest below a contact model's threshold. */
  private async warmestContacts(): Promise<string[]> {
    const rows = await this.deps.db
      .select({ contactId: leads.contactId })
      .from(leadScores)
      .innerJoin(scoringModels, eq(scoringModels.id, leadScores.modelId))
      .innerJoin(leads, eq(leads.id, leadScores.leadId))
      .innerJoin(stages, eq(stages.id, leads.stageId))
      .where(
        and(
          eq(scoringModels.status, "live"),
          eq(scoringModels.target, "contact"),
          eq(leads.status, "open"),
          eq(leads.salesReady, false),
          eq(leads.isTest, false),
          isNotNull(leads.contactId),
          lte(stages.position, 1),
          lt(leadScores.score, scoringModels.threshold),
        ),
      )
      .orderBy(desc(sql`${leadScores.score} - ${scoringModels.threshold}`), asc(leads.id))
      .limit(3);
    return [...new Set(rows.flatMap((r) => (r.contactId ? [r.contactId] : [])))];
  }

  /** People registered for this event who have not been checked in yet (at most 50). */
  private async registrantsNotCheckedIn(eventId: string): Promise<KnownContact[]> {
    return this.deps.db
      .selectDistinct({
        id: contacts.id,
        email: sql<string>`${contacts.email}`,
        firstName: contacts.firstName,
        lastName: contacts.lastName,
        jobTitle: contacts.jobTitle,
        country: contacts.country,
        company: accounts.name,
        formId: sql<string | null>`null::uuid`,
        salesReady: sql<boolean>`exists (select 1 from ${leads} r where r.contact_id = ${contacts.id} and r.status = 'open' and r.sales_ready)`,
      })
      .from(interactions)
      .innerJoin(contacts, eq(contacts.id, interactions.contactId))
      .leftJoin(accounts, eq(accounts.id, contacts.accountId))
      .where(
        and(
          eq(interactions.eventId, eventId),
          eq(interactions.type, "event_registered"),
          isNotNull(contacts.email),
          sql`not exists (select 1 from ${interactions} a where a.contact_id = ${contacts.id} and a.event_id = ${eventId} and a.type = 'event_attended')`,
        ),
      )
      .limit(50);
  }

  private schedule(): void {
    if (this.stopped) return;
    const mean = this.deps.meanIntervalMs / ticksPerSubmission;
    const delay = mean / 2 + Math.random() * mean;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((err) => this.deps.logger.warn({ err }, "simulator: tick failed; continuing"))
        .finally(() => this.schedule());
    }, delay);
  }
}

/** A known person's own details, so a submission matches them and changes nothing about them. */
function valuesOf(contact: KnownContact): Submission {
  const values: Submission = { email: contact.email };
  if (contact.firstName) values.firstName = contact.firstName;
  if (contact.lastName) values.lastName = contact.lastName;
  if (contact.company) values.company = contact.company;
  if (contact.country) values.country = contact.country;
  if (contact.jobTitle) values.jobTitle = contact.jobTitle;
  return values;
}
