import { describe, expect, it } from "vitest";
import { retryLater } from "../../client/src/lib/board-sync-rules.ts";

describe("retryLater", () => {
  it("retries busy, superseded and rate-limited syncs with backoff", () => {
    expect(retryLater("UNAVAILABLE")).toBe(true);
    expect(retryLater("RATE_LIMITED")).toBe(true);
  });

  it("does not retry refusals that will not change by waiting", () => {
    for (const code of ["FORBIDDEN", "NOT_FOUND", "INVALID_INPUT", "UNAUTHENTICATED", "INTERNAL"]) {
      expect(retryLater(code)).toBe(false);
    }
  });
});
