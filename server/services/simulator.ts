import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { contacts } from "../../drizzle/schema.ts";
import type { Db } from "../db/client.ts";
import { companies, firstNames, jobTitles, lastNames, pick, topics } from "./demo-data.ts";
import type { EventService } from "./event-service.ts";
import type { FormService } from "./form-service.ts";

/**
 * Keeps a demo board alive the way real sources would: landing-page submissions arrive
 * every few seconds through the same intake service, some from people already known
 * (a new lead for an existing contact), most from new people.
 */
export class DemoSimulator {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private serial = 0;

  constructor(
    private readonly deps: {
      db: Db;
      forms: FormService;
      events: EventService;
      logger: Logger;
      now: () => Date;
      meanIntervalMs: number;
      random?: () => number;
    },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Waits for a submission in progress, so shutdown never cuts one in half. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  async tick(): Promise<void> {
    const random = this.deps.random ?? Math.random;
    let email: string;
    if (random() < 0.25) {
      const [known] = await this.deps.db
        .select({ email: contacts.email })
        .from(contacts)
        .where(sql`${contacts.email} is not null`)
        .orderBy(sql`random()`)
        .limit(1);
      email = known?.email ?? this.newEmail(random);
    } else {
      email = this.newEmail(random);
    }
    const [company, , country] = pick(random, companies);
    const fields = {
      email,
      firstName: pick(random, firstNames),
      lastName: pick(random, lastNames),
      company,
      country,
      jobTitle: pick(random, jobTitles),
      topic: pick(random, topics),
    };
    // Through the same services as the public endpoints: forms, or now and then an event registration.
    const forms = await this.deps.forms.list();
    const events = await this.deps.events.list();
    if (events.length > 0 && random() < 0.2) {
      const answer = await this.deps.events.register(pick(random, events).id, fields, {}, this.deps.now());
      this.deps.logger.debug({ ...answer.body }, "simulator: event registration");
    } else if (forms.length > 0) {
      const answer = await this.deps.forms.submit(pick(random, forms).id, fields, {}, this.deps.now());
      this.deps.logger.debug({ ...answer.body }, "simulator: form submission");
    }
  }

  private newEmail(random: () => number): string {
    this.serial++;
    return `visitor${Date.now().toString(36)}${this.serial}.${Math.floor(random() * 1e6)}@prospects.example`;
  }

  private schedule(): void {
    if (this.stopped) return;
    const mean = this.deps.meanIntervalMs;
    const delay = mean / 2 + Math.random() * mean;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err) => this.deps.logger.warn({ err }, "simulator: submission failed; continuing"))
        .finally(() => this.schedule());
    }, delay);
  }
}
