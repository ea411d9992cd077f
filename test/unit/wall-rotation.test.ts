import { describe, expect, it } from "vitest";
import { nextScreen, rotates, rotationAt } from "../../client/src/lib/wall/rotation.ts";
import type { DisplayScreen } from "../../shared/schemas/display-tokens.ts";

const screen = (label: string): DisplayScreen => ({ processId: "p", view: "all", filters: {}, label });

describe("rotation between screens", () => {
  it.each([
    ["no config", null, false],
    ["one screen with a period", { rotateSeconds: 20, screens: [screen("a")] }, false],
    ["two screens without a period", { rotateSeconds: null, screens: [screen("a"), screen("b")] }, false],
    ["two screens with a period", { rotateSeconds: 20, screens: [screen("a"), screen("b")] }, true],
    ["a zero period", { rotateSeconds: 0, screens: [screen("a"), screen("b")] }, false],
  ] as const)("%s rotates: %s", (_name, config, expected) => {
    expect(rotates(config)).toBe(expected);
  });

  it.each([
    // elapsed ms, seconds, screens, start → index, progress, next in ms
    [0, 20, 3, 0, 0, 0, 20_000],
    [5_000, 20, 3, 0, 0, 0.25, 15_000],
    [20_000, 20, 3, 0, 1, 0, 20_000],
    [59_999, 20, 3, 0, 2, 0.99995, 1],
    [60_000, 20, 3, 0, 0, 0, 20_000],
    [25_000, 20, 3, 2, 0, 0.25, 15_000],
    [10_000, 10, 2, 1, 0, 0, 10_000],
  ])("after %i ms at %i s per screen over %i screens from %i: screen %i", (elapsed, seconds, count, start, index, progress, nextIn) => {
    const point = rotationAt(elapsed, seconds, count, start);
    expect(point.index).toBe(index);
    expect(point.progress).toBeCloseTo(progress, 6);
    expect(point.nextInMs).toBeCloseTo(nextIn, 6);
  });

  it("stays on the start screen without rotation, whatever the time", () => {
    expect(rotationAt(1e9, null, 3, 1)).toEqual({ index: 1, progress: 0, nextInMs: Number.POSITIVE_INFINITY });
    expect(rotationAt(1e9, 30, 1, 0).index).toBe(0);
    expect(rotationAt(1e9, -5, 3, 2).index).toBe(2);
  });

  it("takes odd inputs: a negative or NaN elapsed time counts as the start, an index past the end wraps", () => {
    expect(rotationAt(-500, 10, 2).index).toBe(0);
    expect(rotationAt(Number.NaN, 10, 2).progress).toBe(0);
    expect(rotationAt(0, 10, 3, 4).index).toBe(1);
    expect(rotationAt(0, 10, 3, -1).index).toBe(2);
  });

  it("the next screen wraps around", () => {
    expect([0, 1, 2].map((i) => nextScreen(i, 3))).toEqual([1, 2, 0]);
    expect(nextScreen(0, 0)).toBe(0);
  });
});
