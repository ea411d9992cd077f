import type { RequirementKey } from "./domain/stages.ts";
import type { LeadSource } from "./schemas/records.ts";

/** A stage as the board shows it. */
export interface BoardStage {
  id: string;
  key: string;
  name: string;
  position: number;
  entryRequirements: RequirementKey[];
}

/** A lead as a card on the board: everything a viewer needs, nothing more. */
export interface LeadCard {
  id: string;
  topic: string;
  contactId: string | null;
  accountId: string | null;
  contactName: string | null;
  companyName: string | null;
  processId: string;
  stageId: string;
  stage: string;
  rank: string;
  version: number;
  readyForTeleprospecting: boolean;
  teleprospectingAccepted: boolean;
  salesReady: boolean;
  salesAccepted: boolean;
  /** False when the lead has neither contact nor account: it cannot be scored. */
  scorable: boolean;
  ownerId: string | null;
  score: number | null;
  grade: string | null;
  source: LeadSource;
  isTest: boolean;
  stageEnteredAt: string;
  updatedAt: string;
}

/** A lead as `GET /api/leads/:id` answers: the card plus scores and stage history. */
export interface LeadDetail extends LeadCard {
  scores: Array<{ modelId: string; modelName: string; score: number; grade: string | null; breakdown: unknown[] }>;
  history: Array<{
    fromStage: string | null;
    toStage: string;
    reason: "manual" | "override" | "gate" | "score" | "automation";
    note: string | null;
    actorId: string | null;
    actorName: string;
    at: string;
  }>;
}

export interface BoardSnapshot {
  boardId: string;
  processId: string;
  processName: string;
  /** The sequence number of the last event included in this snapshot. */
  seq: number;
  stages: BoardStage[];
  leads: LeadCard[];
  serverTime: string;
}

export interface EventActor {
  id: string | null;
  name: string;
  kind: "user" | "system" | "api";
}

export type BoardEventType = "lead.created" | "lead.moved" | "lead.updated";

interface BoardEventBase {
  boardId: string;
  seq: number;
  at: string;
  actor: EventActor;
  lead: LeadCard;
}

export type BoardEvent =
  | (BoardEventBase & { type: "lead.created" })
  | (BoardEventBase & { type: "lead.moved"; fromStage: string; toStage: string })
  | (BoardEventBase & { type: "lead.updated" });

/** An event before the log has given it a seq. */
export type BoardEventDraft = BoardEvent extends infer E
  ? E extends BoardEvent
    ? Omit<E, "seq" | "boardId" | "at">
    : never
  : never;

export type ResyncResult = { events: BoardEvent[] } | { snapshot: BoardSnapshot };
