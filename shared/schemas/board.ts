import { z } from "zod";
import { boardViews } from "../domain/views.ts";
import { id } from "./common.ts";

/** The most cards one snapshot column or one `board:page` may carry. */
export const maxPageSize = 500;
/** Cards per column in a join's snapshot unless it asks for another `pageSize`. */
export const defaultFirstPageSize = 50;
/** Cards in a `board:page` answer unless it asks for another `limit`. */
export const defaultPageLimit = 200;

const pageSize = z.number().int().min(1).max(maxPageSize);

export const boardJoinInput = z.strictObject({
  processId: id.optional(),
  view: z.enum(boardViews).optional(),
  /** How many cards of each column the snapshot carries (the first page). */
  pageSize: pageSize.optional(),
});
export type BoardJoinInput = z.infer<typeof boardJoinInput>;

export const boardResyncInput = z.strictObject({
  boardId: id,
  sinceSeq: z.number().int().min(0),
  /** The view the client shows; a new connection after a reconnect learns it from here. */
  view: z.enum(boardViews).optional(),
});
export type BoardResyncInput = z.infer<typeof boardResyncInput>;

/** The next cards of a column after `after` (from the top when absent), for the socket's view. */
export const boardPageInput = z.strictObject({
  boardId: id,
  /** A stage key or a stage id. */
  stage: z.string().trim().min(1).max(100),
  after: z.strictObject({ rank: z.string().min(1).max(1000), id }).optional(),
  limit: pageSize.optional(),
});
export type BoardPageInput = z.infer<typeof boardPageInput>;

export const leadMoveInput = z.strictObject({
  leadId: id,
  /** A stage key (e.g. "sales_acceptance") or a stage id. */
  toStage: z.string().trim().min(1).max(100),
  expectedVersion: z.number().int().min(1),
  /** The card the lead should land above (its new next neighbour). */
  beforeId: id.optional(),
  /** The card the lead should land below (its new previous neighbour). */
  afterId: id.optional(),
  override: z.boolean().optional(),
  reason: z.string().trim().max(500).optional(),
});
export type LeadMoveInput = z.infer<typeof leadMoveInput>;

/** The HTTP form of a move: the lead id is in the path. */
export const leadMoveBody = leadMoveInput.omit({ leadId: true });

/** What this connection is doing on a board: a lead open in the drawer, a lead being dragged, or nothing. */
export const presenceSetInput = z.strictObject({
  boardId: id,
  activity: z.strictObject({ leadId: id, kind: z.enum(["open", "drag"]) }).nullable(),
});
export type PresenceSetInput = z.infer<typeof presenceSetInput>;

/** A page of the board's recent activity for the feed; `beforeSeq` pages back. */
export const boardActivityInput = z.strictObject({
  boardId: id,
  beforeSeq: z.number().int().min(1).optional(),
  limit: z.number().int().min(1).max(100).optional(),
});
export type BoardActivityInput = z.infer<typeof boardActivityInput>;
