/**
 * Rotation between a wall's screens: each shows for `rotateSeconds`, then the next, in a loop.
 * Pure: the elapsed time is passed in.
 */
import type { WallConfig } from "../../../../shared/schemas/display-tokens.ts";

/** The config rotates: a period is set and there is more than one screen. */
export function rotates(config: { rotateSeconds: WallConfig["rotateSeconds"]; screens: readonly unknown[] } | null): boolean {
  return config !== null && config.screens.length > 1 && typeof config.rotateSeconds === "number" && config.rotateSeconds > 0;
}

export interface RotationPoint {
  /** The screen to show. */
  index: number;
  /** How far through its period it is, 0 to 1 (the progress indicator). */
  progress: number;
  /** Milliseconds until the next screen. */
  nextInMs: number;
}

/**
 * Where the rotation is after `elapsedMs` since it started on screen `startIndex`.
 * Without rotation (a period ≤ 0, or fewer than two screens) it stays on the start screen.
 */
export function rotationAt(elapsedMs: number, rotateSeconds: number | null, count: number, startIndex = 0): RotationPoint {
  const n = Math.max(1, Math.floor(count));
  const start = ((Math.floor(startIndex) % n) + n) % n;
  const periodMs = (rotateSeconds ?? 0) * 1000;
  if (n < 2 || !(periodMs > 0)) return { index: start, progress: 0, nextInMs: Number.POSITIVE_INFINITY };
  const elapsed = Math.max(0, Number.isFinite(elapsedMs) ? elapsedMs : 0);
  const periods = Math.floor(elapsed / periodMs);
  const into = elapsed - periods * periodMs;
  return { index: (start + periods) % n, progress: into / periodMs, nextInMs: periodMs - into };
}

/** The screen after `index` (wrapping). */
export function nextScreen(index: number, count: number): number {
  return count > 0 ? (index + 1) % count : 0;
}
