/**
 * Moments the sales room celebrates: a lead that becomes sales-ready (its score crossed the
 * threshold, or someone marked it) and a lead that sales accepted. Detected from a board
 * event and the card as the wall held it before; pure, so it is table-tested.
 */
import type { BoardEvent, LeadCard } from "../../../../shared/board.ts";

export type CelebrationKind = "sales_ready" | "sales_accepted";

export interface Celebration {
  kind: CelebrationKind;
  leadId: string;
  topic: string;
  companyName: string | null;
  ownerName: string | null;
  /** The event's seq: one celebration per event. */
  seq: number;
}

/** Events older than this (replayed after a long outage) are old news, not a moment. */
export const celebrationMaxAgeMs = 10 * 60_000;

export const celebrationHeadlines: Record<CelebrationKind, string> = {
  sales_ready: "Sales-ready!",
  sales_accepted: "Accepted by sales!",
};

/**
 * The celebration an event brings, or null. `previous` is the card before the event (undefined
 * when the wall did not hold it: a column still loading, another view). Without the "before",
 * only the event itself can say so: a scoring event that marked the lead sales-ready, or a
 * tick or move whose `flagsSet` names the flag. Test leads and stale events are never celebrated; acceptance by
 * sales wins over sales-ready when one change does both.
 */
export function detectCelebration(event: BoardEvent, previous: LeadCard | undefined, nowMs: number, maxAgeMs = celebrationMaxAgeMs): Celebration | null {
  if (event.type !== "lead.updated" && event.type !== "lead.moved" && event.type !== "lead.scored") return null;
  const lead = event.lead;
  if (lead.isTest) return null;
  const at = Date.parse(event.at);
  if (!Number.isNaN(at) && nowMs - at > maxAgeMs) return null;
  const kind = crossing(event, previous);
  if (kind === null) return null;
  return { kind, leadId: lead.id, topic: lead.topic, companyName: lead.companyName, ownerName: lead.ownerName, seq: event.seq };
}

function crossing(event: Extract<BoardEvent, { lead: LeadCard }>, previous: LeadCard | undefined): CelebrationKind | null {
  const lead = event.lead;
  if (previous) {
    // An older version of the card (an out-of-order echo) is no change at all.
    if (previous.version > lead.version) return null;
    if (lead.salesAccepted && !previous.salesAccepted) return "sales_accepted";
    if (lead.salesReady && !previous.salesReady) return "sales_ready";
    return null;
  }
  if (event.type === "lead.scored" && event.salesReadyMarked && lead.salesReady) return "sales_ready";
  // The event names the flags it set (a tick, or a move passing a gate): no "before" needed.
  const set = event.type === "lead.updated" || event.type === "lead.moved" ? (event.flagsSet ?? []) : [];
  if (set.includes("sales_accepted") && lead.salesAccepted) return "sales_accepted";
  if (set.includes("sales_ready") && lead.salesReady) return "sales_ready";
  return null;
}

/** How many celebrations may wait: a burst (a rescoring of many leads) shows its first few, not an hour of banners. */
export const maxQueued = 5;

/**
 * Adds a celebration behind those waiting, unless the same lead already waits for the same
 * moment or the queue is full. Returns the new queue (the old one is not changed).
 */
export function enqueueCelebration(queue: readonly Celebration[], next: Celebration, max = maxQueued): Celebration[] {
  if (queue.some((c) => c.leadId === next.leadId && c.kind === next.kind)) return [...queue];
  if (queue.length >= max) return [...queue];
  return [...queue, next];
}
