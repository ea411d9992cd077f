/**
 * Time in stage: how long a lead has sat in its stage, and whether that is past the
 * stage's limits (amber, then red). Pure; the clock is passed in.
 */

/** Per-stage limits set on the process, in hours. `redAfterHours` is greater than `amberAfterHours`. */
export interface StageTimeLimits {
  amberAfterHours: number;
  redAfterHours: number;
}

export type StageAgeLevel = "ok" | "amber" | "red";

/** The level of a card that entered its stage at `enteredAtIso`, at `nowMs`. */
export function stageAgeLevel(enteredAtIso: string, nowMs: number, limits: StageTimeLimits | null): StageAgeLevel {
  if (!limits) return "ok";
  const entered = Date.parse(enteredAtIso);
  if (Number.isNaN(entered)) return "ok";
  const hours = (nowMs - entered) / 3_600_000;
  if (hours >= limits.redAfterHours) return "red";
  if (hours >= limits.amberAfterHours) return "amber";
  return "ok";
}

/** Words for a level, for titles and screen readers. */
export function stageAgeText(level: StageAgeLevel, limits: StageTimeLimits | null): string {
  if (!limits || level === "ok") return "Time in this stage";
  return level === "red"
    ? `Over ${limits.redAfterHours} h in this stage`
    : `Over ${limits.amberAfterHours} h in this stage`;
}
