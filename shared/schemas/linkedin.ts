import { z } from "zod";
import { id } from "./common.ts";

/**
 * LinkedIn Lead Gen Forms records as LinkedIn returns them. Only the parts the sync
 * reads are checked; LinkedIn's other fields pass through untouched.
 */
const numericId = z.union([z.number().int().nonnegative(), z.string().trim().regex(/^\d+$/, "must be numeric")]);

export const linkedinPredefinedFields = [
  "EMAIL",
  "FIRST_NAME",
  "LAST_NAME",
  "COMPANY_NAME",
  "JOB_TITLE",
  "PHONE_NUMBER",
  "COUNTRY",
] as const;

export const linkedinLeadForm = z.looseObject({
  id: numericId,
  name: z.string().max(500).optional(),
  content: z.looseObject({
    questions: z
      .array(
        z.looseObject({
          questionId: numericId,
          predefinedField: z.string().optional(),
          name: z.string().optional(),
        }),
      )
      .min(1, "a lead form has at least one question"),
  }),
});
export type LinkedinLeadForm = z.infer<typeof linkedinLeadForm>;

export const linkedinFormOptions = z.strictObject({
  contactStrategyId: id.optional(),
  leadStrategyId: id.optional(),
});

export const linkedinLeadResponse = z.looseObject({
  id: z.string().trim().min(1),
  submittedAt: z.number().int().nonnegative(),
  leadType: z.string().optional(),
  testLead: z.boolean().optional(),
  versionedLeadGenFormUrn: z
    .string()
    .regex(/urn:li:leadGenForm:(\d+)/, "must name the lead form (urn:li:leadGenForm:<id>)"),
  leadMetadata: z.looseObject({}).optional(),
  formResponse: z.looseObject({
    answers: z.array(
      z.looseObject({
        questionId: numericId,
        answerDetails: z.looseObject({
          textQuestionAnswer: z.looseObject({ answer: z.string() }).optional(),
        }),
      }),
    ),
  }),
});
export type LinkedinLeadResponse = z.infer<typeof linkedinLeadResponse>;

export const linkedinLeadResponses = z.array(z.unknown()).min(1, "send at least one response").max(1000);
