import { DomainError } from "../../shared/errors.ts";
import { issuesToDetails } from "../../shared/schemas/common.ts";
import {
  linkedinLeadForm,
  linkedinLeadResponse,
  type LinkedinLeadForm,
  type LinkedinLeadResponse,
} from "../../shared/schemas/linkedin.ts";
import type { Db } from "../db/client.ts";
import * as marketing from "../repositories/marketing.ts";
import { requirePermission, systemActor, type Actor } from "./actor.ts";
import { withBoardEvents, type CommittedEventSink } from "./event-log.ts";
import type { IntakeService, IntakeValues } from "./intake-service.ts";

/** LinkedIn's predefined question fields and where their answers go. */
const predefined: Record<string, keyof IntakeValues> = {
  EMAIL: "email",
  FIRST_NAME: "firstName",
  LAST_NAME: "lastName",
  COMPANY_NAME: "company",
  JOB_TITLE: "jobTitle",
  PHONE_NUMBER: "phone",
  COUNTRY: "country",
};

const linkedinSync = systemActor("LinkedIn Lead Gen Forms");

export interface SyncReport {
  created: number;
  updated: number;
  skipped: number;
  errors: Array<{ index: number; error: string }>;
}

/** The campaign a response came from, as LinkedIn names it in `leadMetadata`. */
export function campaignOf(metadata: Record<string, unknown> | undefined): string | null {
  if (!metadata) return null;
  const sponsored = metadata.sponsoredLeadMetadata as Record<string, unknown> | undefined;
  const candidate = sponsored?.campaign ?? metadata.campaign ?? metadata.campaignName;
  return typeof candidate === "string" && candidate.trim() ? candidate.trim() : null;
}

export function formIdOf(response: Pick<LinkedinLeadResponse, "versionedLeadGenFormUrn">): string {
  return response.versionedLeadGenFormUrn.match(/urn:li:leadGenForm:(\d+)/)![1]!;
}

/** Maps answers through the stored form's questions; unknown questions are ignored. */
export function answersToValues(form: LinkedinLeadForm, response: LinkedinLeadResponse): IntakeValues {
  const fieldOfQuestion = new Map(
    form.content.questions.map((q) => [String(q.questionId), q.predefinedField ? predefined[q.predefinedField] : undefined]),
  );
  const values: IntakeValues = {};
  for (const answer of response.formResponse.answers) {
    const field = fieldOfQuestion.get(String(answer.questionId));
    const text = answer.answerDetails.textQuestionAnswer?.answer;
    if (field && typeof text === "string") values[field] = text;
  }
  return values;
}

/** LinkedIn Lead Gen Forms: form definitions, and lead responses synced idempotently by id. */
export class LinkedinService {
  constructor(
    private readonly db: Db,
    private readonly sink: CommittedEventSink,
    private readonly intake: IntakeService,
  ) {}

  async saveForm(
    actor: Actor,
    body: unknown,
    options: { contactStrategyId?: string | undefined; leadStrategyId?: string | undefined },
    now: Date,
  ) {
    requirePermission(actor, "form.manage");
    const parsed = linkedinLeadForm.safeParse(body);
    if (!parsed.success) throw new DomainError("INVALID_INPUT", "Not a LinkedIn lead form", issuesToDetails(parsed.error));
    const strategies = await this.intake.strategies(options);
    return marketing.upsertLinkedinForm(this.db, {
      id: String(parsed.data.id),
      name: parsed.data.name ?? null,
      definition: parsed.data,
      contactStrategyId: strategies.contact.id,
      leadStrategyId: strategies.lead.id,
      updatedAt: now,
    });
  }

  listForms() {
    return marketing.listLinkedinForms(this.db);
  }

  /** Each response in its own transaction: a bad one is reported and the rest go on. */
  async syncResponses(actor: Actor, responses: unknown[], now: Date): Promise<SyncReport> {
    requirePermission(actor, "linkedin.sync");
    const report: SyncReport = { created: 0, updated: 0, skipped: 0, errors: [] };
    for (const [index, raw] of responses.entries()) {
      try {
        const outcome = await this.syncOne(raw, now);
        report[outcome]++;
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        report.errors.push({ index, error: err.message });
      }
    }
    return report;
  }

  private async syncOne(raw: unknown, now: Date): Promise<"created" | "updated" | "skipped"> {
    const parsed = linkedinLeadResponse.safeParse(raw);
    if (!parsed.success) {
      const first = parsed.error.issues[0]!;
      throw new DomainError("INVALID_INPUT", `${first.path.join(".") || "response"}: ${first.message}`);
    }
    const response = parsed.data;
    const formId = formIdOf(response);
    const form = await marketing.findLinkedinForm(this.db, formId);
    if (!form) throw new DomainError("INVALID_INPUT", `unknown lead form ${formId}: store its definition first`);
    const definition = linkedinLeadForm.parse(form.definition);
    const values = answersToValues(definition, response);
    if (!values.email?.trim()) throw new DomainError("INVALID_INPUT", "the response has no EMAIL answer");
    const strategies = await this.intake.strategies(form);
    return withBoardEvents(this.db, this.sink, now, async (tx, log) => {
      const first = await marketing.claimLinkedinResponse(tx, {
        id: response.id,
        formId,
        testLead: response.testLead ?? false,
        submittedAt: new Date(response.submittedAt),
        receivedAt: now,
      });
      if (!first) return "skipped";
      const result = await this.intake.ingestInTransaction(
        tx,
        log,
        linkedinSync,
        {
          source: "linkedin",
          linkedinFormId: formId,
          campaign: campaignOf(response.leadMetadata),
          defaultTopic: form.name ?? `LinkedIn lead form ${formId}`,
          interaction: "form_submitted",
          occurredAt: new Date(response.submittedAt),
          isTest: response.testLead ?? false,
        },
        values,
        strategies,
        now,
      );
      await marketing.linkLinkedinResponse(tx, response.id, result.leadId, result.contactId);
      return result.created.lead ? "created" : "updated";
    });
  }
}
