import { z } from "zod";
import { boardViews } from "../domain/views.ts";
import { id } from "./common.ts";

export const boardJoinInput = z.strictObject({ processId: id.optional(), view: z.enum(boardViews).optional() });
export type BoardJoinInput = z.infer<typeof boardJoinInput>;

export const boardResyncInput = z.strictObject({
  boardId: id,
  sinceSeq: z.number().int().min(0),
  /** The view the client shows; a new connection after a reconnect learns it from here. */
  view: z.enum(boardViews).optional(),
});
export type BoardResyncInput = z.infer<typeof boardResyncInput>;

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
