import type { BreakdownItem } from "./domain/scoring.ts";
import type { LeadFlag, RequirementKey, StageField } from "./domain/stages.ts";
import type { StageTimeLimits } from "./domain/stage-age.ts";
import type { BoardView } from "./domain/views.ts";
import type { LeadSource } from "./schemas/records.ts";

/** A stage as the board shows it. */
export interface BoardStage {
  id: string;
  key: string;
  name: string;
  position: number;
  entryRequirements: RequirementKey[];
  gateFlag: LeadFlag | null;
  salesReadyJump: boolean;
  fields: StageField[];
  /** How long a lead may sit in this stage before its card turns amber, then red (null: no limit). */
  timeLimits: StageTimeLimits | null;
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
  /** The owner's display name, for the card and the owner filter. */
  ownerName: string | null;
  /** The marketing context the board filters by: the campaign or initiative, and the form. */
  campaign: string | null;
  formId: string | null;
  formName: string | null;
  /** The best score across live models, with its grade (null when the lead has none). */
  score: number | null;
  grade: string | null;
  /** The lead's score under each live model that scores it. */
  scores: CardScore[];
  source: LeadSource;
  isTest: boolean;
  stageEnteredAt: string;
  updatedAt: string;
}

export interface CardScore {
  modelId: string;
  score: number;
  grade: string | null;
  /** The score before the last change, for the trend arrow. */
  previousScore: number | null;
  /** This model's own sales-ready state for the lead. */
  salesReady: boolean;
}

/** One model's score change, as a `lead.scored` event carries it. */
export interface ScoreChange {
  modelId: string;
  modelName: string;
  /** Null when the lead had no score under this model (first scored). */
  from: number | null;
  /** Null when the score was removed (the lead became unscorable, or the model went back to draft). */
  to: number | null;
  grade: string | null;
  threshold: number;
  /** The score reached the model's threshold in this change. */
  crossedThreshold: boolean;
}

/** A lead as `GET /api/leads/:id` answers: the card plus scores and stage history. */
export interface LeadDetail extends LeadCard {
  // The marketing context besides the card's campaign and form.
  eventId: string | null;
  eventName: string | null;
  linkedinFormId: string | null;
  journeyId: string | null;
  status: "open" | "converted" | "disqualified";
  closedReason: string | null;
  /** Values recorded in stage fields, by stage key then field key. */
  stageData: Record<string, Record<string, unknown>>;
  scores: Array<CardScore & { modelName: string; threshold: number; breakdown: BreakdownItem[] }>;
  history: LeadHistoryEntry[];
}

export interface LeadHistoryEntry {
  kind: "stage" | "flag" | "assignment" | "process" | "status" | "field";
  field: string | null;
  fromStage: string | null;
  toStage: string | null;
  fromValue: unknown;
  toValue: unknown;
  reason: "manual" | "override" | "gate" | "score" | "automation";
  note: string | null;
  actorId: string | null;
  actorName: string;
  at: string;
}

export interface BoardSnapshot {
  boardId: string;
  processId: string;
  processName: string;
  /** The sequence number of the last event included in this snapshot. */
  seq: number;
  /** The view this snapshot is filtered by. */
  view: BoardView;
  stages: BoardStage[];
  /**
   * Per stage key: how many open leads of the view the column holds at `seq`, and whether
   * `leads` carries all of them. An incomplete column continues with `board:page`.
   */
  columns: Record<string, BoardColumnInfo>;
  /** The first page of each column, in column order (rank, then id). */
  leads: LeadCard[];
  serverTime: string;
}

export interface BoardColumnInfo {
  total: number;
  complete: boolean;
}

/** Where a column's next page starts: after this card in column order (rank, then id). */
export interface PageCursor {
  rank: string;
  id: string;
}

/** The next cards of one column after a cursor, as they were after event `seq`. */
export interface BoardPage {
  seq: number;
  cards: LeadCard[];
  /** True when no card of the column (in the view) comes after the last one here. */
  complete: boolean;
}

export interface EventActor {
  id: string | null;
  name: string;
  kind: "user" | "system" | "api";
}

export type BoardEventType = BoardEvent["type"];

interface BoardEventCommon {
  boardId: string;
  seq: number;
  at: string;
  actor: EventActor;
}

/**
 * `flagsSet` on lead.moved / lead.updated: the gate flags this change switched from false to
 * true (a tick, or flags a move ticked passing a gate), so a wall can celebrate "sales-ready"
 * and "accepted by sales" without holding the card as it was before. Absent: none.
 */
interface LeadEventBase extends BoardEventCommon {
  lead: LeadCard;
}

export type BoardEvent =
  | (LeadEventBase & { type: "lead.created" })
  | (LeadEventBase & { type: "lead.moved"; fromStage: string; toStage: string; flagsSet?: LeadFlag[] })
  | (LeadEventBase & { type: "lead.updated"; flagsSet?: LeadFlag[] })
  /**
   * Scoring changed the lead's scores; when that made it sales-ready or scored it for the
   * first time, the same change may have marked it and moved it (`moved`).
   */
  | (LeadEventBase & {
      type: "lead.scored";
      changes: ScoreChange[];
      salesReadyMarked: boolean;
      moved: { fromStage: string; toStage: string } | null;
    })
  /** The lead left this board: converted, disqualified, or switched to another process. */
  | (LeadEventBase & { type: "lead.removed"; reason: "converted" | "disqualified" | "process_changed" })
  /** A change to a lead outside this viewer's view: only its seq and id, so nothing leaks. */
  | (BoardEventCommon & { type: "lead.left_view"; leadId: string })
  /** The process was edited: its name or its stages (added, renamed, reordered, removed). */
  | (BoardEventCommon & { type: "stages.changed"; processName: string; stages: BoardStage[] });

/** An event before the log has given it a seq. */
export type BoardEventDraft = BoardEvent extends infer E
  ? E extends BoardEvent
    ? Omit<E, "seq" | "boardId" | "at">
    : never
  : never;

/** One page of a board's recent activity, newest first, as the viewer's view may see it. */
export interface BoardActivity {
  /** Lead events (moves, new leads, score changes, removals), newest first. */
  events: BoardEvent[];
  /** The board's seq when read: live events after it continue the feed. */
  seq: number;
  /**
   * Present when older events may exist: the next page is `beforeSeq: nextBeforeSeq`. The
   * oldest event's seq after a full page; after a short one, where the server stopped
   * reading (it reads a bounded part of the log per request). Absent: nothing older.
   */
  nextBeforeSeq?: number;
}

export type ResyncResult = { events: BoardEvent[] } | { snapshot: BoardSnapshot };
