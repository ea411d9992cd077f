import { z } from "zod";
import { id } from "./schemas/common.ts";

/**
 * Headline figures of a board for the wall. The wall sends the start of its own day and
 * week (the TV's time zone is the room's), the server counts from the board's history.
 */
export const wallFiguresInput = z.strictObject({
  boardId: id,
  dayStart: z.iso.datetime({ offset: true }),
  weekStart: z.iso.datetime({ offset: true }),
});
export type WallFiguresInput = z.infer<typeof wallFiguresInput>;

export interface StageConversion {
  fromStage: string;
  toStage: string;
  /** Leads that entered `fromStage` since the week's start. */
  entered: number;
  /** Of those, how many have moved on to `toStage` or beyond. */
  advanced: number;
  /** advanced / entered, null when none entered. */
  rate: number | null;
}

export interface WallFigures {
  boardId: string;
  newToday: number;
  salesReadyToday: number;
  conversions: StageConversion[];
  at: string;
}
