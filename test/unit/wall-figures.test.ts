import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countText, figureTiles, periodStarts, rateText } from "../../client/src/lib/wall/figures.ts";
import { clockText, offlineText, timeText, updatedText } from "../../client/src/lib/wall/clock.ts";
import type { WallFigures } from "../../shared/wall.ts";
import { wallFiguresInput } from "../../shared/wall.ts";

// The TV's time zone is the room's: these run in one with daylight saving time.
const tz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = "Europe/Paris";
});
afterAll(() => {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
});

describe("the periods the wall asks figures for", () => {
  it.each([
    ["a Wednesday afternoon", "2025-06-04T15:30:00+02:00", "2025-06-03T22:00:00.000Z", "2025-06-01T22:00:00.000Z"],
    ["a Monday just after midnight", "2025-06-02T00:05:00+02:00", "2025-06-01T22:00:00.000Z", "2025-06-01T22:00:00.000Z"],
    ["a Sunday night: the week began last Monday", "2025-06-08T23:59:00+02:00", "2025-06-07T22:00:00.000Z", "2025-06-01T22:00:00.000Z"],
    ["the day clocks go forward (a 23-hour day)", "2025-03-30T12:00:00+02:00", "2025-03-29T23:00:00.000Z", "2025-03-23T23:00:00.000Z"],
    ["the Monday after: the week began before the change", "2025-03-31T09:00:00+02:00", "2025-03-30T22:00:00.000Z", "2025-03-30T22:00:00.000Z"],
    ["a week across the new year", "2026-01-01T10:00:00+01:00", "2025-12-31T23:00:00.000Z", "2025-12-28T23:00:00.000Z"],
  ])("%s", (_name, now, dayStart, weekStart) => {
    const starts = periodStarts(new Date(now));
    expect(starts).toEqual({ dayStart, weekStart });
    // What the wall sends is what the server's schema takes.
    expect(wallFiguresInput.safeParse({ boardId: "00000000-0000-4000-8000-000000000001", ...starts }).success).toBe(true);
  });
});

describe("how the figures read", () => {
  const stages = [
    { key: "inquiry", name: "Inquiry", position: 0 },
    { key: "amq", name: "Qualified", position: 1 },
    { key: "sales", name: "Sales", position: 2 },
  ];
  const figures: WallFigures = {
    boardId: "b",
    newToday: 1234,
    salesReadyToday: 3,
    at: "2025-06-02T10:00:00Z",
    conversions: [
      { fromStage: "amq", toStage: "sales", entered: 0, advanced: 0, rate: null },
      { fromStage: "gone", toStage: "sales", entered: 2, advanced: 1, rate: 0.5 },
      { fromStage: "inquiry", toStage: "amq", entered: 10, advanced: 4, rate: 0.4 },
    ],
  };

  it("new today, sales-ready today, then the conversions in stage order (unknown stages by key, last)", () => {
    expect(figureTiles(figures, stages)).toEqual([
      { key: "new", label: "New leads today", value: "1,234", detail: "" },
      { key: "sales-ready", label: "Sales-ready today", value: "3", detail: "" },
      { key: "conversion:inquiry:amq", label: "Inquiry → Qualified", value: "40 %", detail: "4 of 10 this week" },
      { key: "conversion:amq:sales", label: "Qualified → Sales", value: "—", detail: "none entered this week" },
      { key: "conversion:gone:sales", label: "gone → Sales", value: "50 %", detail: "1 of 2 this week" },
    ]);
  });

  it.each([
    [null, "—"],
    [0, "0 %"],
    [0.004, "0 %"],
    [0.666, "67 %"],
    [1, "100 %"],
    [1.5, "100 %"],
    [-0.2, "0 %"],
    [Number.NaN, "—"],
  ])("rate %s reads %s", (rate, text) => {
    expect(rateText(rate)).toBe(text);
  });

  it("counts read the same whatever the TV's locale", () => {
    expect(countText(0)).toBe("0");
    expect(countText(1234567)).toBe("1,234,567");
    expect(countText(Number.NaN)).toBe("—");
  });

  it("the clock and the times are local, 24-hour, zero-padded", () => {
    const t = new Date("2025-06-02T07:03:09+02:00");
    expect(clockText(t)).toBe("07:03");
    expect(timeText(t)).toBe("07:03:09");
    expect(updatedText(t)).toBe("Updated 07:03:09");
    expect(updatedText(null)).toBe("Waiting for the board…");
    expect(offlineText(new Date("2025-06-02T14:03:00+02:00"), new Date("2025-06-02T16:00:00+02:00"))).toBe("Offline since 14:03");
    expect(offlineText(new Date("2025-06-01T23:50:00+02:00"), new Date("2025-06-02T08:00:00+02:00"))).toBe("Offline since Sun 23:50");
  });
});
