import { describe, expect, it } from "vitest";
import { pixelShift, shiftIntervalMs, shiftStep } from "../../client/src/lib/wall/burn-in.ts";

describe("burn-in pixel shift", () => {
  const cycle = 48; // a 5×5 grid (−4…4 by 2) walked forwards and back: 2·25 − 2

  it("stays within ±4 px and moves 2 px along one axis per step, for two whole cycles", () => {
    for (let step = 0; step < 2 * cycle; step++) {
      const a = pixelShift(step);
      const b = pixelShift(step + 1);
      expect(Math.abs(a.x)).toBeLessThanOrEqual(4);
      expect(Math.abs(a.y)).toBeLessThanOrEqual(4);
      const moved = Math.abs(a.x - b.x) + Math.abs(a.y - b.y);
      expect(moved, `step ${step}`).toBe(2);
    }
  });

  it("repeats with its cycle and visits every point of the grid", () => {
    const seen = new Set<string>();
    for (let step = 0; step < cycle; step++) {
      expect(pixelShift(step + cycle)).toEqual(pixelShift(step));
      const { x, y } = pixelShift(step);
      seen.add(`${x},${y}`);
    }
    expect(seen.size).toBe(25);
  });

  it.each([
    [0, { x: -4, y: -4 }],
    [1, { x: -2, y: -4 }],
    [4, { x: 4, y: -4 }],
    [5, { x: 4, y: -2 }],
    [24, { x: 4, y: 4 }],
    [25, { x: 2, y: 4 }],
    [47, { x: -2, y: -4 }],
    [-1, { x: -2, y: -4 }],
  ])("step %i is %o", (step, offset) => {
    expect(pixelShift(step)).toEqual(offset);
  });

  it("takes odd inputs without breaking: fractions, NaN, infinities, a zero amplitude", () => {
    expect(pixelShift(1.7)).toEqual(pixelShift(1));
    expect(pixelShift(Number.NaN)).toEqual(pixelShift(0));
    expect(pixelShift(Number.POSITIVE_INFINITY)).toEqual(pixelShift(0));
    expect(pixelShift(5, 0)).toEqual({ x: 0, y: 0 });
    // An amplitude that is not a multiple of the stride is rounded down to one.
    for (let s = 0; s < 30; s++) expect(Math.abs(pixelShift(s, 5, 2).x)).toBeLessThanOrEqual(4);
  });

  it("counts whole intervals since the start, never negative", () => {
    expect(shiftStep(1_000, 1_000)).toBe(0);
    expect(shiftStep(0, shiftIntervalMs - 1)).toBe(0);
    expect(shiftStep(0, shiftIntervalMs)).toBe(1);
    expect(shiftStep(0, 10 * shiftIntervalMs + 5)).toBe(10);
    expect(shiftStep(5_000, 0)).toBe(0);
  });
});
