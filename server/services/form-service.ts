import { DomainError } from "../../shared/errors.ts";
import { submissionInput, type FormInput } from "../../shared/schemas/intake.ts";
import { issuesToDetails } from "../../shared/schemas/common.ts";
import type { Db } from "../db/client.ts";
import * as marketing from "../repositories/marketing.ts";
import { requirePermission, systemActor, type Actor } from "./actor.ts";
import type { IntakeChannel, IntakeResult, IntakeService } from "./intake-service.ts";

export interface SubmissionAnswer {
  status: 200 | 201;
  body: Pick<IntakeResult, "contactId" | "leadId" | "created">;
}

const webVisitor = systemActor("Landing page");

export function submissionAnswer(result: IntakeResult): SubmissionAnswer {
  return {
    status: result.created.contact || result.created.lead ? 201 : 200,
    body: { contactId: result.contactId, leadId: result.leadId, created: result.created },
  };
}

/** Validates a public submission body: only the known fields, a clear error per bad one. */
export function parseSubmission(body: unknown) {
  const parsed = submissionInput.safeParse(body ?? {});
  if (!parsed.success) {
    throw new DomainError("INVALID_INPUT", "The submission is not valid", issuesToDetails(parsed.error));
  }
  return parsed.data;
}

/** Marketing forms (landing pages) and their public submissions. */
export class FormService {
  constructor(
    private readonly db: Db,
    private readonly intake: IntakeService,
  ) {}

  list() {
    return marketing.listForms(this.db);
  }

  async get(formId: string) {
    const form = await marketing.findForm(this.db, formId);
    if (!form) throw new DomainError("NOT_FOUND", "No such form");
    return form;
  }

  /** A new form gets the default strategy pair unless it names its own. */
  async create(actor: Actor, input: FormInput, now: Date) {
    requirePermission(actor, "form.manage");
    const strategies = await this.intake.strategies(input);
    return marketing.insertForm(this.db, {
      name: input.name,
      campaign: input.campaign ?? null,
      contactStrategyId: strategies.contact.id,
      leadStrategyId: strategies.lead.id,
      allowedOrigins: input.allowedOrigins ?? [],
      ...(input.honeypotField ? { honeypotField: input.honeypotField } : {}),
      createdAt: now,
      updatedAt: now,
    });
  }

  async update(actor: Actor, formId: string, patch: Partial<FormInput>, now: Date) {
    requirePermission(actor, "form.manage");
    const form = await this.get(formId);
    if (patch.contactStrategyId || patch.leadStrategyId) {
      await this.intake.strategies({
        contactStrategyId: patch.contactStrategyId ?? form.contactStrategyId,
        leadStrategyId: patch.leadStrategyId ?? form.leadStrategyId,
      });
    }
    return marketing.updateForm(this.db, formId, { ...patch, updatedAt: now });
  }

  /**
   * A public submission: honeypot, validation, matching, the lead and the
   * `form_submitted` interaction, all or nothing. A filled honeypot is answered as if
   * accepted (bots learn nothing) and changes nothing.
   */
  async submit(
    formId: string,
    body: Record<string, unknown>,
    options: { idempotencyKey?: string | undefined },
    now: Date,
  ): Promise<SubmissionAnswer & { spam: boolean }> {
    const form = await this.get(formId);
    const trap = body[form.honeypotField];
    if (typeof trap === "string" ? trap.trim() !== "" : trap !== undefined && trap !== null) {
      return {
        status: 200,
        body: { contactId: null, leadId: null, created: { contact: false, lead: false } },
        spam: true,
      };
    }
    const values = parseSubmission(body);
    const channel: IntakeChannel = {
      source: "form",
      formId: form.id,
      campaign: form.campaign,
      defaultTopic: form.name,
      interaction: "form_submitted",
    };
    const strategies = await this.intake.strategies(form);
    const { result } = await this.intake.ingest(
      webVisitor,
      channel,
      values,
      strategies,
      now,
      options.idempotencyKey ? { scope: `form:${form.id}`, key: options.idempotencyKey } : undefined,
    );
    return { ...submissionAnswer(result), spam: false };
  }
}
