import type { BoardStage, LeadCard } from "../board.ts";
import type { Role } from "../schemas/common.ts";

/** Saved ways of looking at a board. Every view sees the same seq stream, filtered. */
export const boardViews = ["all", "teleprospecting_queue", "sales_ready", "my_leads"] as const;
export type BoardView = (typeof boardViews)[number];

export const viewLabels: Record<BoardView, string> = {
  all: "All leads",
  teleprospecting_queue: "Teleprospecting queue",
  sales_ready: "Sales-ready",
  my_leads: "My leads",
};

/** Teleprospecting stages: those whose gate is part of the telemarketers' work. */
export function isTeleprospectingStage(stage: Pick<BoardStage, "entryRequirements">): boolean {
  const needs = stage.entryRequirements;
  return (needs.includes("ready_for_teleprospecting") || needs.includes("teleprospecting_accepted")) && !needs.includes("sales_ready");
}

export function leadInView(
  view: BoardView,
  lead: Pick<LeadCard, "stage" | "salesReady" | "ownerId">,
  stages: ReadonlyArray<Pick<BoardStage, "key" | "entryRequirements">>,
  userId: string | null,
): boolean {
  switch (view) {
    case "all":
      return true;
    case "teleprospecting_queue": {
      const stage = stages.find((s) => s.key === lead.stage);
      return stage !== undefined && isTeleprospectingStage(stage);
    }
    case "sales_ready":
      return lead.salesReady;
    case "my_leads":
      return userId !== null && lead.ownerId === userId;
  }
}

/** Salespeople see only sales-ready leads and their own, as the domain requires. */
export function allowedViews(role: Role): readonly BoardView[] {
  return role === "salesperson" ? ["sales_ready", "my_leads"] : boardViews;
}

export function defaultView(role: Role): BoardView {
  return role === "salesperson" ? "sales_ready" : "all";
}
