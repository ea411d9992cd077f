import { describe, expect, it } from "vitest";
import { columnTotals, statText } from "../../../client/src/lib/board-logic.ts";
import { ColumnPrefs, parsePrefs, prefsKey } from "../../../client/src/lib/column-prefs.svelte.ts";
import type { CardScore, LeadCard } from "../../../shared/board.ts";

function card(id: string, score: number | null, scores: Array<Pick<CardScore, "modelId" | "score">> = []): LeadCard {
  return {
    id,
    score,
    grade: null,
    scores: scores.map((s) => ({ ...s, grade: null, previousScore: null, salesReady: false })),
  } as unknown as LeadCard;
}

describe("column totals", () => {
  const cards = [
    card("a", 80, [{ modelId: "m1", score: 80 }, { modelId: "m2", score: 10 }]),
    card("b", 41, [{ modelId: "m1", score: 41 }]),
    card("c", null),
  ];

  it.each([
    { model: null, totals: { count: 3, scored: 2, sum: 121, average: 61 } },
    { model: "m1", totals: { count: 3, scored: 2, sum: 121, average: 61 } },
    { model: "m2", totals: { count: 3, scored: 1, sum: 10, average: 10 } },
    { model: "gone", totals: { count: 3, scored: 0, sum: null, average: null } },
  ])("under model $model", ({ model, totals }) => {
    expect(columnTotals(cards, model)).toEqual(totals);
  });

  it("an empty column", () => {
    expect(columnTotals([])).toEqual({ count: 0, scored: 0, sum: null, average: null });
  });

  it.each([
    { stat: "average", sum: 1230, average: 62, text: "Avg 62" },
    { stat: "sum", sum: 1230, average: 62, text: "Sum 1,230" },
    { stat: "sum", sum: null, average: null, text: "Sum —" },
    { stat: "average", sum: null, average: null, text: "Avg —" },
  ] as const)("$stat reads $text", ({ stat, sum, average, text }) => {
    expect(statText(stat, { count: 20, scored: 20, sum, average })).toBe(text);
  });
});

describe("column preferences", () => {
  it.each([
    { raw: null, expected: { collapsed: [], stat: "average", stats: {} } },
    { raw: "not json", expected: { collapsed: [], stat: "average", stats: {} } },
    { raw: "[1,2]", expected: { collapsed: [], stat: "average", stats: {} } },
    {
      raw: JSON.stringify({ collapsed: ["won", 3], stat: "sum", stats: { new: "average", bad: "median" } }),
      expected: { collapsed: ["won"], stat: "sum", stats: { new: "average" } },
    },
    { raw: JSON.stringify({ stat: "mode" }), expected: { collapsed: [], stat: "average", stats: {} } },
  ])("parses $raw leniently", ({ raw, expected }) => {
    expect(parsePrefs(raw)).toEqual(expected);
  });

  function memoryStore() {
    const items = new Map<string, string>();
    return { items, getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v) };
  }

  it("keeps collapsed columns and statistics per process, in storage", () => {
    const store = memoryStore();
    let process: string | null = "p1";
    const prefs = new ColumnPrefs(() => process, store);
    prefs.setCollapsed("won", true);
    prefs.setStat("new", "sum");
    expect(prefs.isCollapsed("won")).toBe(true);
    expect(prefs.statOf("new")).toBe("sum");
    expect(prefs.statOf("won")).toBe("average");

    process = "p2";
    expect(prefs.isCollapsed("won")).toBe(false);
    expect(prefs.statOf("new")).toBe("average");

    // A new page reads what the first one stored.
    process = "p1";
    const again = new ColumnPrefs(() => "p1", store);
    expect(again.isCollapsed("won")).toBe(true);
    expect(again.statOf("new")).toBe("sum");
    expect(JSON.parse(store.items.get(prefsKey("p1"))!)).toMatchObject({ collapsed: ["won"] });
  });

  it("the board-wide statistic replaces every column's own", () => {
    const prefs = new ColumnPrefs(() => "p1", memoryStore());
    prefs.setStat("new", "sum");
    prefs.setBoardStat("average");
    expect(prefs.statOf("new")).toBe("average");
    prefs.setBoardStat("sum");
    expect(prefs.boardStat).toBe("sum");
    expect(prefs.statOf("won")).toBe("sum");
    prefs.setCollapsed("won", true);
    prefs.setCollapsed("won", false);
    expect(prefs.isCollapsed("won")).toBe(false);
  });

  it("works without storage, and when storage throws", () => {
    const none = new ColumnPrefs(() => "p1", null);
    none.setCollapsed("a", true);
    expect(none.isCollapsed("a")).toBe(true);
    const broken = new ColumnPrefs(() => "p1", {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("quota");
      },
    });
    broken.setStat("a", "sum");
    expect(broken.statOf("a")).toBe("sum");
  });
});
