import { DomainError } from "../../shared/errors.ts";
import { clientAddressKey } from "./rate-limit.ts";

/**
 * Failed sign-ins, counted per account (the email as typed, whether or not such a user
 * exists, so the limit says nothing about which accounts exist) and per client address.
 * Past the free failures each further failure doubles the lockout: 1 s, 2 s, 4 s … up to
 * `maxLockoutMs`. In memory, per node: each node protects itself; a restart forgets.
 */
export interface LoginLimits {
  /** Failures of one account before the lockout starts. */
  failuresPerAccount: number;
  /** Failures from one address (any accounts) before the lockout starts: higher, since an office shares one address. */
  failuresPerAddress: number;
  baseLockoutMs: number;
  maxLockoutMs: number;
  /** A counter with no failure for this long starts again from zero. */
  forgetAfterMs: number;
  /** Counters kept at most; the oldest go first (bounds memory under a spray of made-up emails). */
  maxEntries: number;
}

export const defaultLoginLimits: LoginLimits = {
  failuresPerAccount: 5,
  failuresPerAddress: 20,
  baseLockoutMs: 1000,
  maxLockoutMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
  maxEntries: 100_000,
};

interface Counter {
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
}

/** Who is trying: the account and the address, each with its own counter. */
export interface LoginAttempt {
  email: string;
  ip: string | undefined;
}

export class LoginLimiter {
  readonly limits: LoginLimits;
  readonly #counters = new Map<string, Counter>();

  constructor(limits: Partial<LoginLimits> = {}) {
    this.limits = { ...defaultLoginLimits, ...limits };
  }

  #keys(attempt: LoginAttempt): Array<{ key: string; threshold: number }> {
    return [
      { key: `account:${attempt.email.trim().toLowerCase()}`, threshold: this.limits.failuresPerAccount },
      { key: `address:${clientAddressKey(attempt.ip)}`, threshold: this.limits.failuresPerAddress },
    ];
  }

  #counter(key: string, nowMs: number): Counter | undefined {
    const counter = this.#counters.get(key);
    if (counter && nowMs - counter.lastFailureAt >= this.limits.forgetAfterMs) {
      this.#counters.delete(key);
      return undefined;
    }
    return counter;
  }

  /** How long this attempt must wait before its password is even checked; 0 when it may go ahead. */
  waitMs(attempt: LoginAttempt, nowMs: number): number {
    let wait = 0;
    for (const { key } of this.#keys(attempt)) {
      const counter = this.#counter(key, nowMs);
      if (counter) wait = Math.max(wait, counter.lockedUntil - nowMs);
    }
    return wait;
  }

  /** Throws RATE_LIMITED (with `retryAfterMs`) while the account or the address is locked out. */
  admit(attempt: LoginAttempt, nowMs: number): void {
    const wait = this.waitMs(attempt, nowMs);
    if (wait > 0) {
      // One message whether or not the account exists.
      throw new DomainError(
        "RATE_LIMITED",
        `Too many failed sign-ins; try again in ${formatWait(wait)}`,
        { retryAfterMs: wait },
      );
    }
  }

  recordFailure(attempt: LoginAttempt, nowMs: number): void {
    for (const { key, threshold } of this.#keys(attempt)) {
      const counter = this.#counter(key, nowMs) ?? { failures: 0, lastFailureAt: nowMs, lockedUntil: 0 };
      counter.failures++;
      counter.lastFailureAt = nowMs;
      if (counter.failures >= threshold) {
        const doublings = Math.min(counter.failures - threshold, 30);
        counter.lockedUntil = nowMs + Math.min(this.limits.maxLockoutMs, this.limits.baseLockoutMs * 2 ** doublings);
      }
      // Re-inserted so the map's order is by last failure, oldest first.
      this.#counters.delete(key);
      this.#counters.set(key, counter);
    }
    while (this.#counters.size > this.limits.maxEntries) {
      const oldest = this.#counters.keys().next().value;
      if (oldest === undefined) break;
      this.#counters.delete(oldest);
    }
  }

  /** A correct password clears the account's counter; the address keeps its own (one good account must not launder others). */
  recordSuccess(attempt: LoginAttempt): void {
    this.#counters.delete(this.#keys(attempt)[0]!.key);
  }
}

function formatWait(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}
