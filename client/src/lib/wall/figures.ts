/**
 * The wall's headline figures: the periods it asks about (the TV's own day and week, the
 * room's time zone) and how the answer reads across a room. Pure: the clock is passed in.
 */
import type { BoardStage } from "../../../../shared/board.ts";
import type { StageConversion, WallFigures } from "../../../../shared/wall.ts";

/** How often the figures are asked for again (besides after every (re)join). */
export const figuresRefreshMs = 60_000;

export interface PeriodStarts {
  /** Local midnight today, as an instant. */
  dayStart: string;
  /** Local midnight of this week's Monday, as an instant. */
  weekStart: string;
}

/**
 * The starts of today and of this week (weeks start on Monday) in the local time zone of
 * `now`, as ISO instants. Built from the local calendar date, so a day that is 23 or 25 hours
 * long (a daylight-saving change) still starts at its own midnight.
 */
export function periodStarts(now: Date): PeriodStarts {
  const y = now.getFullYear();
  const m = now.getMonth();
  const d = now.getDate();
  const sinceMonday = (now.getDay() + 6) % 7;
  return {
    dayStart: new Date(y, m, d).toISOString(),
    weekStart: new Date(y, m, d - sinceMonday).toISOString(),
  };
}

/** "40 %", or "—" when nobody entered the stage this week. */
export function rateText(rate: number | null): string {
  if (rate === null || !Number.isFinite(rate)) return "—";
  return `${Math.round(Math.min(Math.max(rate, 0), 1) * 100)} %`;
}

/** A stage's name on this board, or its key when the board does not know it (any more). */
export function stageName(stages: readonly Pick<BoardStage, "key" | "name">[], key: string): string {
  return stages.find((s) => s.key === key)?.name ?? key;
}

export interface FigureTile {
  key: string;
  label: string;
  value: string;
  /** The small print under the value, e.g. "4 of 10". */
  detail: string;
}

/** "1,234" in the room's locale-free form (TVs are often set to odd locales). */
export const countText = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—");

/** One tile per conversion, in the board's stage order; conversions of stages the board no longer has go last. */
function conversionTiles(conversions: readonly StageConversion[], stages: readonly Pick<BoardStage, "key" | "name" | "position">[]): FigureTile[] {
  const position = (key: string) => stages.find((s) => s.key === key)?.position ?? Number.MAX_SAFE_INTEGER;
  return [...conversions]
    .sort((a, b) => position(a.fromStage) - position(b.fromStage) || position(a.toStage) - position(b.toStage))
    .map((c) => ({
      key: `conversion:${c.fromStage}:${c.toStage}`,
      label: `${stageName(stages, c.fromStage)} → ${stageName(stages, c.toStage)}`,
      value: rateText(c.rate),
      detail: c.entered > 0 ? `${countText(c.advanced)} of ${countText(c.entered)} this week` : "none entered this week",
    }));
}

/** The strip's tiles: new today, sales-ready today, then this week's conversions between stages. */
export function figureTiles(figures: WallFigures, stages: readonly Pick<BoardStage, "key" | "name" | "position">[]): FigureTile[] {
  return [
    { key: "new", label: "New leads today", value: countText(figures.newToday), detail: "" },
    { key: "sales-ready", label: "Sales-ready today", value: countText(figures.salesReadyToday), detail: "" },
    ...conversionTiles(figures.conversions, stages),
  ];
}
