/**
 * Which board changes the signed-in user made: their moves (acknowledged on the socket)
 * and their drawer commands (answered over HTTP). Events for those are not flashed at
 * the user as someone else's news, whether the event or the answer arrives first.
 */
import type { LeadCard } from "../../../shared/board.ts";
import type { ToastAction } from "./notices.svelte.ts";

const versionKey = (card: Pick<LeadCard, "id" | "version">) => `${card.id}:${card.version}`;

export class OwnChangeLog {
  readonly #results = new Set<string>();
  readonly #inFlight = new Map<string, number>();

  /** The card a command of this user answered. */
  add(card: LeadCard): void {
    if (this.#results.size > 500) this.#results.clear();
    this.#results.add(versionKey(card));
  }

  /** A command about this lead has been sent and not answered yet. */
  begin(leadId: string): void {
    this.#inFlight.set(leadId, (this.#inFlight.get(leadId) ?? 0) + 1);
  }

  end(leadId: string, card?: LeadCard): void {
    const left = (this.#inFlight.get(leadId) ?? 1) - 1;
    if (left > 0) this.#inFlight.set(leadId, left);
    else this.#inFlight.delete(leadId);
    if (card) this.add(card);
  }

  /** True when this card is the user's own change (an answered one is claimed only once). */
  claims(card: LeadCard): boolean {
    return this.#inFlight.has(card.id) || this.#results.delete(versionKey(card));
  }

  clear(): void {
    this.#results.clear();
  }
}

/** Requirements a person fills in on the lead itself rather than by ticking a gate. */
const fillable = new Set<string>(["has_parent", "has_owner"]);

/** The `missing` list of an ILLEGAL_TRANSITION answer's details. */
export function missingOf(details: unknown): string[] {
  if (typeof details !== "object" || details === null || !("missing" in details)) return [];
  return Array.isArray(details.missing) ? details.missing.filter((m): m is string => typeof m === "string") : [];
}

/** Whether a refusal names something the user can fill in on the lead (a parent or an owner). */
export const canFillIn = (missing: readonly string[]): boolean => missing.some((m) => fillable.has(m));

/** "Fill it in" for a refusal whose missing requirements are filled in on the lead (none without a way to open it). */
export function fillInAction(open: ((leadId: string) => void) | undefined, leadId: string, missing: readonly string[]): ToastAction | undefined {
  return open && canFillIn(missing) ? { label: "Fill it in", run: () => open(leadId) } : undefined;
}
