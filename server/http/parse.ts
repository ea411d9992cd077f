import type { z } from "zod";
import { DomainError } from "../../shared/errors.ts";
import { issuesToDetails } from "../../shared/schemas/common.ts";

/** Validates once at the edge: bad input becomes INVALID_INPUT with a detail per field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new DomainError("INVALID_INPUT", "The input is not valid", issuesToDetails(result.error));
  }
  return result.data;
}
