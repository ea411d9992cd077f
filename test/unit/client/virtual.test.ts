import { describe, expect, it } from "vitest";
import {
  anchorAt,
  anchoredScrollTop,
  estimateHeight,
  indexAt,
  offsetsOf,
  rangeAt,
  recordHeight,
  segmentsOf,
  type Segment,
} from "../../../client/src/lib/virtual.ts";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `c${i}`);

describe("estimateHeight", () => {
  it.each([
    { measured: [], fallback: 100, expected: 100 },
    { measured: [80, 120], fallback: 100, expected: 100 },
    { measured: [90, 0, Number.NaN, 110], fallback: 50, expected: 100 },
    { measured: [60], fallback: 100, expected: 60 },
  ])("$measured → $expected", ({ measured, fallback, expected }) => {
    expect(estimateHeight(measured, fallback)).toBe(expected);
  });
});

describe("offsetsOf", () => {
  it("adds measured heights and the estimate for the rest; the last offset is the total", () => {
    const heights = new Map([["c1", 50], ["c3", 200]]);
    expect([...offsetsOf(ids(4), heights, 100)]).toEqual([0, 100, 150, 250, 450]);
  });

  it("an empty column is zero high", () => {
    expect([...offsetsOf([], new Map(), 100)]).toEqual([0]);
  });
});

describe("indexAt", () => {
  const offsets = offsetsOf(ids(5), new Map(), 100); // 0,100,…,500
  it.each([
    { y: -10, index: 0 },
    { y: 0, index: 0 },
    { y: 99.9, index: 0 },
    { y: 100, index: 1 },
    { y: 450, index: 4 },
    { y: 5000, index: 4 },
  ])("y=$y is in card $index", ({ y, index }) => {
    expect(indexAt(offsets, y)).toBe(index);
  });
});

describe("rangeAt", () => {
  const offsets = offsetsOf(ids(10_000), new Map(), 100);

  it("renders the viewport plus overscan, not the whole column", () => {
    expect(rangeAt(offsets, 0, 800, 400)).toEqual({ start: 0, end: 13 });
    expect(rangeAt(offsets, 50_000, 800, 400)).toEqual({ start: 496, end: 513 });
  });

  it("stops at the end of the column", () => {
    const r = rangeAt(offsets, 999_500, 800, 400);
    expect(r.end).toBe(10_000);
    expect(r.start).toBe(9991);
  });

  it("an empty column renders nothing; a zero viewport still renders a card", () => {
    expect(rangeAt(offsetsOf([], new Map(), 100), 0, 800, 400)).toEqual({ start: 0, end: 0 });
    expect(rangeAt(offsetsOf(ids(3), new Map(), 100), 0, 0, 0)).toEqual({ start: 0, end: 1 });
  });

  it("uses measured heights: tall cards mean fewer cards in view", () => {
    const heights = new Map(ids(20).map((id) => [id, 400] as const));
    expect(rangeAt(offsetsOf(ids(20), heights, 100), 0, 800, 0)).toEqual({ start: 0, end: 3 });
  });
});

describe("segmentsOf", () => {
  const offsets = offsetsOf(ids(10), new Map(), 100);
  const shape = (segments: Segment[]) => segments.map((s) => (s.kind === "gap" ? `gap:${s.height}` : `#${s.index}`));

  it("spacers stand in for the cards before and after the window", () => {
    expect(shape(segmentsOf(offsets, { start: 3, end: 5 }))).toEqual(["gap:300", "#3", "#4", "gap:500"]);
  });

  it("no spacer where the window reaches an end", () => {
    expect(shape(segmentsOf(offsets, { start: 0, end: 10 }))).toEqual(["#0", "#1", "#2", "#3", "#4", "#5", "#6", "#7", "#8", "#9"]);
  });

  it("kept cards outside the window are rendered in their place, between spacers", () => {
    expect(shape(segmentsOf(offsets, { start: 4, end: 6 }, [1, 8, 5, 99, -1]))).toEqual([
      "gap:100",
      "#1",
      "gap:200",
      "#4",
      "#5",
      "gap:200",
      "#8",
      "gap:100",
    ]);
  });

  it("spacers and cards always add up to the column's height", () => {
    const heights = new Map([["c2", 37], ["c7", 260]]);
    const o = offsetsOf(ids(10), heights, 90);
    const total = segmentsOf(o, { start: 3, end: 6 }, [8]).reduce(
      (sum, s) => sum + (s.kind === "gap" ? s.height : (o[s.index + 1] as number) - (o[s.index] as number)),
      0,
    );
    expect(total).toBe(o[10]);
  });

  it("gap keys are unique", () => {
    const keys = segmentsOf(offsets, { start: 4, end: 6 }, [1, 8]).flatMap((s) => (s.kind === "gap" ? [s.key] : []));
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("recordHeight", () => {
  it("records a change, ignores sub-pixel noise and nonsense", () => {
    const heights = new Map<string, number>();
    expect(recordHeight(heights, "a", 100)).toBe(true);
    expect(recordHeight(heights, "a", 100.3)).toBe(false);
    expect(recordHeight(heights, "a", 120)).toBe(true);
    expect(recordHeight(heights, "a", 0)).toBe(false);
    expect(recordHeight(heights, "a", Number.NaN)).toBe(false);
    expect(heights.get("a")).toBe(120);
  });
});

describe("scroll anchoring", () => {
  const list = ids(100);
  const indexOf = new Map(list.map((id, i) => [id, i]));

  it("keeps the card at the top of the view in place when heights above it change", () => {
    const before = offsetsOf(list, new Map(), 100);
    const anchor = anchorAt(list, before, 5_030)!;
    expect(anchor).toEqual({ id: "c50", within: 30 });
    // Every card above turned out 20 px taller than estimated.
    const after = offsetsOf(list, new Map(list.slice(0, 50).map((id) => [id, 120] as const)), 100);
    expect(anchoredScrollTop(anchor, indexOf, after)).toBe(6_030);
  });

  it("a column at the very top stays at the top; a gone anchor gives no position", () => {
    const offsets = offsetsOf(list, new Map(), 100);
    expect(anchorAt(list, offsets, 0)).toBeNull();
    expect(anchorAt([], offsetsOf([], new Map(), 100), 50)).toBeNull();
    expect(anchoredScrollTop({ id: "gone", within: 0 }, indexOf, offsets)).toBeNull();
  });
});
