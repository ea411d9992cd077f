import { describe, expect, it } from "vitest";
import { compareRanks, rankBetween, ranksAfter } from "../../shared/domain/ranks.ts";

describe("ranks", () => {
  it("puts a key strictly between two neighbours", () => {
    const [a, b] = ranksAfter(null, 2) as [string, string];
    const mid = rankBetween(a, b);
    expect(compareRanks(a, mid)).toBe(-1);
    expect(compareRanks(mid, b)).toBe(-1);
  });

  it("appends and prepends", () => {
    const [a] = ranksAfter(null, 1) as [string];
    expect(compareRanks(rankBetween(a, null), a)).toBe(1);
    expect(compareRanks(rankBetween(null, a), a)).toBe(-1);
  });

  it("places after the first neighbour when the neighbours are stale (out of order)", () => {
    const [a, b] = ranksAfter(null, 2) as [string, string];
    const key = rankBetween(b, a);
    expect(compareRanks(key, b)).toBe(1);
  });

  it("keeps order over many insertions at the same spot (bytewise compare)", () => {
    const keys = ranksAfter(null, 2);
    let low = keys[0]!;
    const high = keys[1]!;
    for (let i = 0; i < 200; i++) {
      const k = rankBetween(low, high);
      expect(compareRanks(low, k)).toBe(-1);
      expect(compareRanks(k, high)).toBe(-1);
      low = k;
    }
  });

  it("generates increasing keys in bulk", () => {
    const keys = ranksAfter(null, 500);
    expect([...keys].sort(compareRanks)).toEqual(keys);
  });
});
