import { z } from "zod";
import { contactMatchFields, leadMatchFields } from "../domain/matching.ts";
import { id } from "./common.ts";

const name = z.string().trim().min(1).max(200);
const optionalText = (max: number) => z.string().trim().max(max).nullable().optional();
const origin = z
  .string()
  .trim()
  .regex(/^https?:\/\/[^/\s]+$/, "must be an origin like https://www.example.com (scheme and host, no path)");

export const formInput = z.strictObject({
  name,
  campaign: optionalText(200),
  contactStrategyId: id.optional(),
  leadStrategyId: id.optional(),
  allowedOrigins: z.array(origin).max(50).optional(),
  honeypotField: z.string().trim().regex(/^[A-Za-z_][\w-]{0,62}$/, "must be a simple field name").optional(),
});
export type FormInput = z.infer<typeof formInput>;
export const formPatch = formInput.partial();

/**
 * A landing-page submission: the form's fields. Extra fields (tracking parameters,
 * free text a page adds) are ignored rather than refused, as a plain HTML form cannot
 * be told to stop sending them.
 */
export const submissionInput = z.object({
  email: z.string().trim().min(1, "is required").max(320).pipe(z.email({ message: "must be an email address" })),
  firstName: optionalText(100),
  lastName: optionalText(100),
  company: optionalText(200),
  jobTitle: optionalText(200),
  phone: optionalText(50),
  country: optionalText(100),
  topic: optionalText(300),
  campaign: optionalText(200),
});
export type SubmissionInput = z.infer<typeof submissionInput>;

export const eventInput = z.strictObject({
  name,
  startsAt: z.iso.datetime({ offset: true, message: "must be an ISO 8601 date-time" }),
  campaign: optionalText(200),
  contactStrategyId: id.optional(),
  leadStrategyId: id.optional(),
});
export type EventInput = z.infer<typeof eventInput>;

export const checkInInput = z.strictObject({
  email: z.string().trim().max(320).pipe(z.email({ message: "must be an email address" })),
  firstName: optionalText(100),
  lastName: optionalText(100),
  company: optionalText(200),
});

export const journeyCreateLeadInput = z
  .strictObject({
    contactId: id.optional(),
    accountId: id.optional(),
    topic: optionalText(300),
    campaign: optionalText(200),
  })
  .refine((v) => v.contactId || v.accountId, { message: "give contactId or accountId", path: ["contactId"] });
export type JourneyCreateLeadInput = z.infer<typeof journeyCreateLeadInput>;

export const journeyId = z.string().trim().regex(/^[\w.:-]{1,120}$/, "must be a journey id (letters, digits, _ . : -)");

export const strategyInput = z
  .strictObject({
    name,
    entity: z.enum(["contact", "lead"]),
    fields: z.array(z.string()).min(1, "needs at least one field").max(8),
    isDefault: z.boolean().optional(),
  })
  .superRefine((v, ctx) => {
    const allowed: readonly string[] = v.entity === "contact" ? contactMatchFields : leadMatchFields;
    v.fields.forEach((f, i) => {
      if (!allowed.includes(f)) {
        ctx.addIssue({ code: "custom", path: ["fields", i], message: `unknown ${v.entity} field "${f}"; one of: ${allowed.join(", ")}` });
      }
    });
    if (new Set(v.fields).size !== v.fields.length) {
      ctx.addIssue({ code: "custom", path: ["fields"], message: "lists a field twice" });
    }
  });
export type StrategyInput = z.infer<typeof strategyInput>;
