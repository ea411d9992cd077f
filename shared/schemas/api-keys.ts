import { z } from "zod";

/** What an integration's key may be used for; each ingest/read/write endpoint checks its own scope. */
export const apiKeyScopes = ["ingest", "read", "write"] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

export const apiKeyInput = z.strictObject({
  name: z.string().trim().min(1, "is required").max(120, "must be at most 120 characters"),
  scopes: z
    .array(z.enum(apiKeyScopes, { message: `must be one of: ${apiKeyScopes.join(", ")}` }))
    .min(1, "needs at least one scope")
    .refine((scopes) => new Set(scopes).size === scopes.length, { message: "lists a scope twice" }),
});
export type ApiKeyInput = z.infer<typeof apiKeyInput>;

/** An API key as the API answers: never the key itself, only the prefix to tell keys apart. */
export interface ApiKeyView {
  id: string;
  name: string;
  prefix: string;
  scopes: ApiKeyScope[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  /** The admin who created it; null once that user is deleted. */
  createdBy: string | null;
}
