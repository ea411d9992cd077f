import { z } from "zod";
import { boardViews, type BoardView } from "../domain/views.ts";
import { id } from "./common.ts";
import type { BoardFilters } from "./saved-views.ts";

/** One screen of a wall display: a board (process), the view on it, optionally a shared saved view's filters. */
export const displayScreenInput = z.strictObject({
  processId: id,
  view: z.enum(boardViews).optional(),
  /** A saved view whose view and filters the screen shows (copied when the token is created). */
  savedViewId: id.optional(),
  label: z.string().trim().min(1).max(80).optional(),
});

export const displayTokenInput = z.strictObject({
  name: z.string().trim().min(1, "is required").max(120, "must be at most 120 characters"),
  screens: z.array(displayScreenInput).min(1, "needs at least one screen").max(8, "at most 8 screens"),
  /** Seconds each screen shows before the next; null or absent: no rotation. */
  rotateSeconds: z.number().int().min(10).max(3600).nullable().optional(),
  /** A short sound with each celebration; off by default (sales rooms are noisy enough). */
  sound: z.boolean().optional(),
});
export type DisplayTokenInput = z.infer<typeof displayTokenInput>;

/** A screen as stored and sent to the wall: everything resolved. */
export interface DisplayScreen {
  processId: string;
  view: BoardView;
  filters: BoardFilters;
  label: string;
}

/** What the admin pages list (never the token itself). */
export interface DisplayTokenView {
  id: string;
  name: string;
  prefix: string;
  screens: DisplayScreen[];
  rotateSeconds: number | null;
  sound: boolean;
  createdAt: string;
  createdBy: string | null;
  revokedAt: string | null;
  lastSeenAt: string | null;
}

/** `POST /api/display-tokens` answers the token once, with the wall's URL. */
export interface DisplayTokenCreated {
  token: string;
  url: string;
  displayToken: DisplayTokenView;
}

/** What a wall display receives on connecting (`wall:config`). */
export interface WallConfig {
  name: string;
  screens: DisplayScreen[];
  rotateSeconds: number | null;
  sound: boolean;
}
