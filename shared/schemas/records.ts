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
