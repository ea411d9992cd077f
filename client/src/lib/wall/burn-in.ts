/**
 * Burn-in protection: the whole wall moves by a few pixels every few minutes, so no edge or
 * header line sits on the same pixels all day. The path is a back-and-forth walk over a small
 * grid, so each step moves by `stride` pixels along one axis only: too little to notice.
 */

export interface PixelShift {
  x: number;
  y: number;
}

/** How often the layout moves by one step. */
export const shiftIntervalMs = 3 * 60_000;

/** The grid's points in walking order: rows top to bottom, each row in the other direction than the last. */
function snake(amplitude: number, stride: number): PixelShift[] {
  const steps: number[] = [];
  for (let v = -amplitude; v <= amplitude; v += stride) steps.push(v);
  const out: PixelShift[] = [];
  steps.forEach((y, row) => {
    const xs = row % 2 === 0 ? steps : [...steps].reverse();
    for (const x of xs) out.push({ x, y });
  });
  return out;
}

/**
 * The offset at step `step` (0, 1, 2, …; any integer, negative ones count from the end) of
 * a cycle that walks the grid forwards then backwards: every offset stays within
 * ±`amplitude`, two consecutive ones differ by `stride` on one axis, and it repeats forever.
 */
export function pixelShift(step: number, amplitude = 4, stride = 2): PixelShift {
  const a = Math.max(0, Math.floor(amplitude));
  const s = Math.max(1, Math.floor(stride));
  const path = snake(a - (a % s), s);
  if (path.length === 1) return { x: 0, y: 0 };
  // Forwards, then back without repeating either end: a cycle of 2n - 2 steps.
  const cycle = 2 * path.length - 2;
  const i = ((Math.floor(Number.isFinite(step) ? step : 0) % cycle) + cycle) % cycle;
  return path[i < path.length ? i : cycle - i]!;
}

/** The step for a moment: how many intervals have passed since `startMs`. */
export function shiftStep(startMs: number, nowMs: number, intervalMs = shiftIntervalMs): number {
  return Math.max(0, Math.floor((nowMs - startMs) / intervalMs));
}
