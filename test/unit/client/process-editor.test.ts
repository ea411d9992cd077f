import { describe, expect, it } from "vitest";
import type { BoardStage } from "../../../shared/board.ts";
import { processCreateInput } from "../../../shared/schemas/processes.ts";
import { createBody, splitLimitProblems, stageDraft, timeLimitsBody } from "../../../client/src/lib/process-editor.ts";

const stage = (timeLimits: BoardStage["timeLimits"]): BoardStage => ({
  id: "s1", key: "inquiry", name: "Inquiry", position: 0, entryRequirements: [], gateFlag: null, salesReadyJump: true, fields: [], timeLimits,
});

describe("the process editor's time limits", () => {
  it("drafts a stage's limits as two inputs, empty when it has none", () => {
    expect(stageDraft(stage({ amberAfterHours: 24, redAfterHours: 72 }))).toMatchObject({ amberAfterHours: 24, redAfterHours: 72 });
    expect(stageDraft(stage(null))).toMatchObject({ amberAfterHours: null, redAfterHours: null });
    expect(stageDraft()).toMatchObject({ amberAfterHours: null, redAfterHours: null });
  });

  it.each([
    [24, 72, { amberAfterHours: 24, redAfterHours: 72 }],
    [null, null, null],
    [Number.NaN, null, null],
    [24, null, { amberAfterHours: 24, redAfterHours: null }],
  ])("amber %s and red %s are sent as %j", (amber, red, expected) => {
    expect(timeLimitsBody({ amberAfterHours: amber, redAfterHours: red })).toEqual(expected);
  });

  it("sends the limits with each stage; the server's schema accepts what the editor drafted", () => {
    const draft = { name: "P", conversionRequirements: [], moveLeadsTo: {}, stages: [stageDraft(stage({ amberAfterHours: 2, redAfterHours: 5 })), { ...stageDraft(), key: "b", name: "B" }] };
    const body = createBody(draft);
    expect(body.stages.map((s) => s.timeLimits)).toEqual([{ amberAfterHours: 2, redAfterHours: 5 }, null]);
    expect(processCreateInput.safeParse(body).success).toBe(true);
  });

  it("puts each limit's problems under its input and keeps the others", () => {
    const split = splitLimitProblems([
      "timeLimits.redAfterHours must be more than amber (48 h)",
      "timeLimits.amberAfterHours must be at least 1 hour",
      "timeLimits Unrecognized key: \"x\"",
      "key must start with a-z",
    ]);
    expect(split).toEqual({
      byField: { "timeLimits.amberAfterHours": ["must be at least 1 hour"], "timeLimits.redAfterHours": ["must be more than amber (48 h)"] },
      rest: ['Time limits: Unrecognized key: "x"', "key must start with a-z"],
    });
  });
});
