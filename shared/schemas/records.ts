import { z } from "zod";
import { id } from "./common.ts";

const text = (max: number) => z.string().trim().max(max);
const optionalText = (max: number) => text(max).nullable().optional();

export const contactInput = z.strictObject({
  email: z.email().max(320).nullable().optional(),
  firstName: optionalText(100),
  lastName: optionalText(100),
  jobTitle: optionalText(200),
  phone: optionalText(50),
  country: optionalText(100),
  accountId: id.nullable().optional(),
});
export type ContactInput = z.infer<typeof contactInput>;

export const accountInput = z.strictObject({
  name: text(200).min(1),
  industry: optionalText(100),
  employeeCount: z.number().int().min(0).max(10_000_000).nullable().optional(),
  annualRevenue: z.number().min(0).max(1e15).nullable().optional(),
  country: optionalText(100),
  websiteDomain: optionalText(253),
});
export type AccountInput = z.infer<typeof accountInput>;

export const leadSources = ["manual", "import", "form", "event", "linkedin", "journey"] as const;
export type LeadSource = (typeof leadSources)[number];

export const leadInput = z.strictObject({
  topic: text(300).min(1),
  contactId: id.nullable().optional(),
  accountId: id.nullable().optional(),
  campaign: optionalText(200),
  processId: id.optional(),
  ownerId: id.nullable().optional(),
});
export type LeadInput = z.infer<typeof leadInput>;

export const contactPatch = contactInput.partial();
export const accountPatch = accountInput.partial();

/** Editing a lead's own fields; linking a parent contact or account is how an unscorable lead becomes scorable. */
export const leadPatch = z
  .strictObject({
    expectedVersion: z.number().int().min(1),
    topic: text(300).min(1).optional(),
    contactId: id.nullable().optional(),
    accountId: id.nullable().optional(),
    campaign: optionalText(200),
  })
  .refine((v) => Object.keys(v).length > 1, { message: "change at least one field", path: ["(body)"] });
export type LeadPatch = z.infer<typeof leadPatch>;

const pageSize = z.coerce.number().int().min(1).max(500).default(50);
const offset = z.coerce.number().int().min(0).default(0);

export const contactListQuery = z.strictObject({ q: z.string().max(200).optional(), accountId: id.optional(), limit: pageSize, offset });
export const accountListQuery = z.strictObject({ q: z.string().max(200).optional(), limit: pageSize, offset });
export const leadListQuery = z.strictObject({
  q: z.string().max(200).optional(),
  processId: id.optional(),
  stage: z.string().max(100).optional(),
  status: z.enum(["open", "converted", "disqualified"]).optional(),
  contactId: id.optional(),
  accountId: id.optional(),
  limit: pageSize,
  offset,
});
