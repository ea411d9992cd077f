import { z } from "zod";
import { boardViews } from "../domain/views.ts";
import { id } from "./common.ts";

/**
 * Board filters: what the board shows within its view. The same object lives in the
 * page's URL (`?owner=&campaign=&form=&grade=&ready=&q=`) and in a saved view.
 */
export const boardFilters = z.strictObject({
  /** "me", "none" (unassigned) or a user id. */
  owner: z.union([z.literal("me"), z.literal("none"), id]).optional(),
  /** Exact campaign name. */
  campaign: z.string().trim().min(1).max(200).optional(),
  /** A form id. */
  form: id.optional(),
  /** Grades to show (any of them). */
  grades: z.array(z.string().trim().min(1).max(20)).min(1).max(20).optional(),
  /** Only sales-ready leads (true) or only those that are not (false). */
  salesReady: z.boolean().optional(),
  /** Text searched in the topic, contact, company, owner and campaign (case-insensitive). */
  text: z.string().trim().min(1).max(200).optional(),
});
export type BoardFilters = z.infer<typeof boardFilters>;

const viewName = z.string().trim().min(1, "must not be empty").max(100);

export const savedViewInput = z.strictObject({
  name: viewName,
  /** The process whose board it shows (null: the default process). */
  processId: id.nullable().optional(),
  view: z.enum(boardViews).nullable().optional(),
  /** The scoring model the cards show (null: the best score). */
  modelId: id.nullable().optional(),
  filters: boardFilters,
  /** Shared views are listed for everyone; others only for their owner. */
  shared: z.boolean().optional(),
});
export type SavedViewInput = z.infer<typeof savedViewInput>;

export const savedViewPatch = savedViewInput.partial();
export type SavedViewPatch = z.infer<typeof savedViewPatch>;

export interface SavedView {
  id: string;
  name: string;
  ownerId: string;
  ownerName: string;
  processId: string | null;
  view: (typeof boardViews)[number] | null;
  modelId: string | null;
  filters: BoardFilters;
  shared: boolean;
  createdAt: string;
  updatedAt: string;
}
