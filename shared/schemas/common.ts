import { z } from "zod";

export const id = z.uuid({ message: "must be an id (uuid)" });
export const roles = ["admin", "marketer", "telemarketer", "sales_manager", "salesperson", "viewer"] as const;
export const role = z.enum(roles);
export type Role = z.infer<typeof role>;

/** Turns zod issues into the contract's `details`: one entry per bad field. */
export function issuesToDetails(error: z.ZodError): Array<{ field: string; message: string }> {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join(".") : "(body)",
    message: issue.message,
  }));
}
