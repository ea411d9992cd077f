import { DomainError } from "../../shared/errors.ts";
import type { EventInput } from "../../shared/schemas/intake.ts";
import type { Db } from "../db/client.ts";
import * as marketing from "../repositories/marketing.ts";
import { requirePermission, systemActor, type Actor } from "./actor.ts";
import { parseSubmission, submissionAnswer, type SubmissionAnswer } from "./form-service.ts";
import type { IntakeService, IntakeValues } from "./intake-service.ts";

const registrationPage = systemActor("Event registration");

/** Marketing events: public registrations and check-ins at the door. */
export class EventService {
  constructor(
    private readonly db: Db,
    private readonly intake: IntakeService,
  ) {}

  list() {
    return marketing.listEvents(this.db);
  }

  async get(eventId: string) {
    const event = await marketing.findEvent(this.db, eventId);
    if (!event) throw new DomainError("NOT_FOUND", "No such event");
    return event;
  }

  async create(actor: Actor, input: EventInput, now: Date) {
    requirePermission(actor, "event.manage");
    const strategies = await this.intake.strategies(input);
    return marketing.insertEvent(this.db, {
      name: input.name,
      startsAt: new Date(input.startsAt),
      campaign: input.campaign ?? null,
      contactStrategyId: strategies.contact.id,
      leadStrategyId: strategies.lead.id,
      createdAt: now,
      updatedAt: now,
    });
  }

  async register(
    eventId: string,
    body: Record<string, unknown>,
    options: { idempotencyKey?: string | undefined },
    now: Date,
  ): Promise<SubmissionAnswer> {
    const event = await this.get(eventId);
    const values = parseSubmission(body);
    return this.record(registrationPage, event, values, "event_registered", now, options.idempotencyKey);
  }

  /**
   * Attendance at the door. Someone who never registered (a walk-in) is brought in the
   * same way a registration would, then marked as attended.
   */
  async checkIn(actor: Actor, eventId: string, values: IntakeValues, now: Date): Promise<SubmissionAnswer> {
    requirePermission(actor, "event.check_in");
    const event = await this.get(eventId);
    return this.record(actor, event, values, "event_attended", now);
  }

  private async record(
    actor: Actor,
    event: marketing.EventRow,
    values: IntakeValues,
    interaction: "event_registered" | "event_attended",
    now: Date,
    idempotencyKey?: string,
  ): Promise<SubmissionAnswer> {
    const strategies = await this.intake.strategies(event);
    const { result } = await this.intake.ingest(
      actor,
      { source: "event", eventId: event.id, campaign: event.campaign, defaultTopic: event.name, interaction },
      values,
      strategies,
      now,
      idempotencyKey ? { scope: `event:${event.id}`, key: idempotencyKey } : undefined,
    );
    return submissionAnswer(result);
  }
}
