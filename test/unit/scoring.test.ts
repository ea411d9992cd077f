import { describe, expect, it } from "vitest";
import {
  dayMs,
  describeCondition,
  evaluateLead,
  fieldMatches,
  gradeFor,
  insideWindow,
  interactionCounts,
  isScorable,
  modelApplies,
  salesReadyAfter,
  sameContext,
  timesToKeep,
  trendOf,
  type BehaviorCondition,
  type BehaviorCounter,
  type FieldCondition,
  type FieldOp,
  type GradeBand,
  type MarketingContext,
  type ModelTarget,
  type ScoringCondition,
  type ScoringRules,
  type ScoringSubject,
} from "../../shared/domain/scoring.ts";

const now = new Date("2026-06-01T12:00:00.000Z");
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString();
const daysAgo = (days: number) => at(-days * dayMs);

const rules = (conditions: ScoringCondition[], overrides: Partial<ScoringRules> = {}): ScoringRules => ({
  target: "contact",
  threshold: 100,
  grades: [],
  conditions,
  ...overrides,
});

const counter = (contactId: string, count: number, times: string[] | null = null): BehaviorCounter => ({
  contactId,
  count,
  times,
  lastAt: times?.[0] ?? now.toISOString(),
});

const subject = (
  counters: Array<[number, BehaviorCounter[]]> = [],
  facts: Partial<Pick<ScoringSubject, "contact" | "account">> = {},
): ScoringSubject => ({
  contact: facts.contact === undefined ? {} : facts.contact,
  account: facts.account === undefined ? {} : facts.account,
  counters: new Map(counters),
});

const behavior = (overrides: Partial<BehaviorCondition> = {}): BehaviorCondition => ({
  kind: "behavior",
  interaction: "form_submitted",
  points: 10,
  frequency: "each",
  ...overrides,
});

describe("fieldMatches", () => {
  const cases: Array<[string, unknown, FieldOp, FieldCondition["value"], boolean]> = [
    // text: trimmed, case-insensitive
    ["text eq ignores case", "Marketing Director", "eq", "marketing DIRECTOR", true],
    ["text eq ignores surrounding blanks", "  CTO ", "eq", "cto", true],
    ["text eq differs", "CTO", "eq", "CEO", false],
    ["text eq with a list never matches", "CTO", "eq", ["CTO"], false],
    ["text eq without a value never matches", "CTO", "eq", undefined, false],
    ["text neq another value", "CTO", "neq", "ceo", true],
    ["text neq the same value in another case", "CTO", "neq", "cto", false],
    ["text in a list, any case", "Germany", "in", ["France", "GERMANY"], true],
    ["text not in the list", "Spain", "in", ["France", "Germany"], false],
    ["in with a single value (not a list) never matches", "Germany", "in", "Germany", false],
    ["contains ignores case", "VP of Sales", "contains", "SALES", true],
    ["contains a missing part", "VP of Sales", "contains", "marketing", false],
    ["contains with a number never matches", "Agent 007", "contains", 7, false],
    ["exists with text", "x", "exists", undefined, true],
    // numbers: compared numerically
    ["number eq", 250, "eq", 250, true],
    ["number eq a numeric string", 250, "eq", "250", true],
    ["number eq another number", 250, "eq", 251, false],
    ["number neq", 250, "neq", 100, true],
    ["number neq the same number", 250, "neq", 250, false],
    ["number in a list", 250, "in", [100, 250], true],
    ["number not in the list", 250, "in", [100, 500], false],
    ["number gt below", 250, "gt", 249, true],
    ["number gt equal", 250, "gt", 250, false],
    ["number gte equal", 250, "gte", 250, true],
    ["number gte above", 250, "gte", 251, false],
    ["number lt above", 250, "lt", 251, true],
    ["number lt equal", 250, "lt", 250, false],
    ["number lte equal", 250, "lte", 250, true],
    ["number lte below", 250, "lte", 249, false],
    ["zero is a value: lt", 0, "lt", 1, true],
    ["zero is a value: exists", 0, "exists", undefined, true],
    ["negative numbers", -5, "lt", 0, true],
    // missing values fail every test but neq
    ["missing (null) eq", null, "eq", "x", false],
    ["missing (undefined) eq", undefined, "eq", "x", false],
    ["missing in", null, "in", ["x"], false],
    ["missing contains", null, "contains", "x", false],
    ["missing gt", null, "gt", 0, false],
    ["missing gte", null, "gte", 0, false],
    ["missing lt", null, "lt", 1_000, false],
    ["missing lte", null, "lte", 1_000, false],
    ["missing (null) neq", null, "neq", "x", true],
    ["missing (undefined) neq", undefined, "neq", 5, true],
    ["blank text counts as missing for neq", "   ", "neq", "x", true],
    ["blank text counts as missing for eq", "", "eq", "", false],
    ["missing (null) exists", null, "exists", undefined, false],
    ["missing (undefined) exists", undefined, "exists", undefined, false],
    ["empty text does not exist", "", "exists", undefined, false],
    ["blank text does not exist", "   ", "exists", undefined, false],
  ];

  it.each(cases)("%s", (_name, actual, op, expected, result) => {
    expect(fieldMatches(actual, op, expected)).toBe(result);
  });
});

describe("field conditions in evaluateLead", () => {
  const cases: Array<[string, FieldCondition, Partial<Pick<ScoringSubject, "contact" | "account">>, number]> = [
    ["contact text eq, any case", { kind: "contact", field: "jobTitle", op: "eq", value: "cto", points: 20 }, { contact: { jobTitle: "CTO" } }, 20],
    ["contact contains", { kind: "contact", field: "jobTitle", op: "contains", value: "director", points: 15 }, { contact: { jobTitle: "Sales Director EMEA" } }, 15],
    ["contact in", { kind: "contact", field: "country", op: "in", value: ["DE", "AT"], points: 5 }, { contact: { country: "at" } }, 5],
    ["contact exists", { kind: "contact", field: "phone", op: "exists", points: 3 }, { contact: { phone: "+49 30 1234" } }, 3],
    ["contact exists, missing", { kind: "contact", field: "phone", op: "exists", points: 3 }, { contact: { phone: null } }, 0],
    ["contact neq on a missing field", { kind: "contact", field: "country", op: "neq", value: "US", points: 4 }, { contact: {} }, 4],
    ["negative points", { kind: "contact", field: "email", op: "contains", value: "@gmail.", points: -25 }, { contact: { email: "Pat@GMAIL.com" } }, -25],
    ["account number gte", { kind: "account", field: "employeeCount", op: "gte", value: 500, points: 30 }, { account: { employeeCount: 500 } }, 30],
    ["account number lt, missing", { kind: "account", field: "annualRevenue", op: "lt", value: 1_000_000, points: 10 }, { account: { annualRevenue: null } }, 0],
    ["account text eq", { kind: "account", field: "industry", op: "eq", value: "software", points: 12 }, { account: { industry: "Software" } }, 12],
    // No record at all: nothing to compare, not even neq.
    ["no account: neq does not apply", { kind: "account", field: "industry", op: "neq", value: "Retail", points: 7 }, { account: null }, 0],
    ["no contact: neq does not apply", { kind: "contact", field: "country", op: "neq", value: "US", points: 7 }, { contact: null }, 0],
    ["zero points never appear", { kind: "contact", field: "jobTitle", op: "exists", points: 0 }, { contact: { jobTitle: "CTO" } }, 0],
  ];

  it.each(cases)("%s", (_name, condition, facts, points) => {
    const result = evaluateLead(rules([condition]), subject([], facts), now);
    expect(result.score).toBe(points);
    expect(result.breakdown).toEqual(points === 0 ? [] : [{ condition: 0, kind: condition.kind, label: describeCondition(condition), points }]);
    expect(result.nextExpiryAt).toBeNull();
  });
});

describe("behaviour frequencies", () => {
  const cases: Array<[string, BehaviorCondition, number, number]> = [
    ["each: points per occurrence", behavior({ frequency: "each", points: 10 }), 3, 30],
    ["each: one occurrence", behavior({ frequency: "each", points: 10 }), 1, 10],
    ["each: nothing without occurrences", behavior({ frequency: "each", points: 10 }), 0, 0],
    ["each: negative points per occurrence", behavior({ frequency: "each", points: -5 }), 4, -20],
    ["once: one occurrence", behavior({ frequency: "once", points: 15 }), 1, 15],
    ["once: never multiplied", behavior({ frequency: "once", points: 15 }), 9, 15],
    ["once: nothing without occurrences", behavior({ frequency: "once", points: 15 }), 0, 0],
    ["once minCount 3: two are not enough", behavior({ frequency: "once", minCount: 3, points: 15 }), 2, 0],
    ["once minCount 3: exactly three", behavior({ frequency: "once", minCount: 3, points: 15 }), 3, 15],
    ["once minCount 3: more than three", behavior({ frequency: "once", minCount: 3, points: 15 }), 7, 15],
    ["once minCount 1 is the default", behavior({ frequency: "once", minCount: 1, points: 15 }), 1, 15],
    ["once: negative points", behavior({ frequency: "once", points: -30 }), 2, -30],
    ["none: points when it never happened", behavior({ frequency: "none", points: -10 }), 0, -10],
    ["none: nothing once it happened", behavior({ frequency: "none", points: -10 }), 1, 0],
    ["none: positive points", behavior({ frequency: "none", points: 5 }), 0, 5],
  ];

  it.each(cases)("%s", (_name, condition, count, points) => {
    const counters: Array<[number, BehaviorCounter[]]> = count > 0 ? [[0, [counter("c-1", count)]]] : [];
    const result = evaluateLead(rules([condition]), subject(counters), now);
    expect(result.score).toBe(points);
    if (points === 0) expect(result.breakdown).toEqual([]);
    else {
      expect(result.breakdown).toEqual([
        {
          condition: 0,
          kind: "behavior",
          label: describeCondition(condition),
          points,
          count,
          contributors: count > 0 ? [{ contactId: "c-1", count }] : [],
        },
      ]);
    }
  });

  it("reads only its own condition's counters", () => {
    const conditions = [behavior({ interaction: "email_opened", points: 1 }), behavior({ interaction: "email_clicked", points: 5 })];
    const result = evaluateLead(rules(conditions), subject([[1, [counter("c-1", 2)]]]), now);
    expect(result.score).toBe(10);
    expect(result.breakdown.map((b) => b.condition)).toEqual([1]);
  });
});

describe("time windows", () => {
  const N = 7;
  const cases: Array<[string, string, boolean]> = [
    ["just now", at(0), true],
    ["three days ago", daysAgo(3), true],
    ["N days minus 1 ms ago", at(-N * dayMs + 1), true],
    ["exactly N days ago", daysAgo(N), false],
    ["N days plus 1 ms ago", at(-N * dayMs - 1), false],
    ["a year ago", daysAgo(365), false],
    ["1 ms in the future", at(1), false],
    ["a day in the future", at(dayMs), false],
  ];

  it.each(cases)("insideWindow: an occurrence %s counts: %s", (_name, time, counts) => {
    expect(insideWindow(Date.parse(time), N, now.getTime())).toBe(counts);
  });

  it.each(cases)("evaluateLead, withinDays 7: an occurrence %s counts: %s", (_name, time, counts) => {
    const condition = behavior({ frequency: "each", points: 5, withinDays: N });
    const result = evaluateLead(rules([condition]), subject([[0, [counter("c-1", 1, [time])]]]), now);
    expect(result.score).toBe(counts ? 5 : 0);
  });

  it("a window counts the kept times, not the all-time count", () => {
    const condition = behavior({ frequency: "each", points: 5, withinDays: 30 });
    const result = evaluateLead(rules([condition]), subject([[0, [counter("c-1", 40, [daysAgo(1), daysAgo(29), daysAgo(31)])]]]), now);
    expect(result.score).toBe(10);
    expect(result.breakdown[0]).toMatchObject({ count: 2, contributors: [{ contactId: "c-1", count: 2 }] });
  });

  it("without a window the all-time count counts, whatever the times", () => {
    const condition = behavior({ frequency: "each", points: 5 });
    const result = evaluateLead(rules([condition]), subject([[0, [counter("c-1", 4, [daysAgo(9_000)])]]]), now);
    expect(result.score).toBe(20);
  });

  it("a windowed counter with no times counts nothing", () => {
    const condition = behavior({ frequency: "each", points: 5, withinDays: 30 });
    expect(evaluateLead(rules([condition]), subject([[0, [counter("c-1", 3, null)]]]), now).score).toBe(0);
  });

  it.each([
    ["once minCount 2: two inside the window", behavior({ frequency: "once", minCount: 2, withinDays: 10, points: 8 }), [daysAgo(1), daysAgo(9)], 8],
    ["once minCount 2: one of them aged out", behavior({ frequency: "once", minCount: 2, withinDays: 10, points: 8 }), [daysAgo(1), daysAgo(10)], 0],
    ["none: the only occurrence aged out", behavior({ frequency: "none", withinDays: 10, points: 6 }), [daysAgo(10)], 6],
    ["none: an occurrence inside the window", behavior({ frequency: "none", withinDays: 10, points: 6 }), [daysAgo(2)], 0],
    ["none: a future occurrence does not count yet", behavior({ frequency: "none", withinDays: 10, points: 6 }), [at(60_000)], 6],
  ])("%s", (_name, condition, times, points) => {
    expect(evaluateLead(rules([condition]), subject([[0, [counter("c-1", times.length, times)]]]), now).score).toBe(points);
  });
});

describe("timesToKeep", () => {
  it.each([
    ["each without a window", behavior({ frequency: "each" }), null],
    ["each with a window keeps every time", behavior({ frequency: "each", withinDays: 7 }), null],
    ["once without a window", behavior({ frequency: "once" }), null],
    ["once with a window keeps 1", behavior({ frequency: "once", withinDays: 7 }), 1],
    ["once minCount 3 with a window keeps 3", behavior({ frequency: "once", minCount: 3, withinDays: 7 }), 3],
    ["none without a window", behavior({ frequency: "none" }), null],
    ["none with a window keeps the latest", behavior({ frequency: "none", withinDays: 7 }), 1],
  ])("%s", (_name, condition, expected) => {
    expect(timesToKeep(condition)).toBe(expected);
  });
});

describe("gradeFor", () => {
  const bands: GradeBand[] = [
    { grade: "A", min: 75, max: 100 },
    { grade: "C", min: 25, max: 49 },
    { grade: "D", min: 0, max: 24 },
    { grade: "B", min: 50, max: 74 },
  ];

  it.each([
    ["inside D", 10, "D"],
    ["inside C", 30, "C"],
    ["inside B", 60, "B"],
    ["inside A", 90, "A"],
    ["lower edge of the lowest band", 0, "D"],
    ["upper edge of D", 24, "D"],
    ["lower edge of C", 25, "C"],
    ["upper edge of C", 49, "C"],
    ["lower edge of B", 50, "B"],
    ["upper edge of B", 74, "B"],
    ["lower edge of A", 75, "A"],
    ["upper edge of the highest band", 100, "A"],
    ["below the lowest band takes the lowest", -1, "D"],
    ["far below takes the lowest", -500, "D"],
    ["above the highest band takes the highest", 101, "A"],
    ["far above takes the highest", 10_000, "A"],
  ])("%s: %d → %s", (_name, score, grade) => {
    expect(gradeFor(bands, score)).toBe(grade);
  });

  it("no grades: no grade", () => {
    expect(gradeFor([], 50)).toBeNull();
  });

  it("a single band grades everything", () => {
    const one = [{ grade: "Only", min: 10, max: 20 }];
    expect([gradeFor(one, 0), gradeFor(one, 15), gradeFor(one, 99)]).toEqual(["Only", "Only", "Only"]);
  });

  it("does not reorder the caller's bands", () => {
    const copy = bands.map((b) => ({ ...b }));
    gradeFor(bands, 42);
    expect(bands).toEqual(copy);
  });

  it("evaluateLead grades the total score, negative scores included", () => {
    const negative = evaluateLead(rules([behavior({ points: -40 })], { grades: bands }), subject([[0, [counter("c-1", 1)]]]), now);
    expect(negative).toMatchObject({ score: -40, grade: "D" });
    const high = evaluateLead(rules([behavior({ points: 30 })], { grades: bands }), subject([[0, [counter("c-1", 2)]]]), now);
    expect(high).toMatchObject({ score: 60, grade: "B" });
    const ungraded = evaluateLead(rules([behavior({ points: 30 })]), subject([[0, [counter("c-1", 2)]]]), now);
    expect(ungraded.grade).toBeNull();
  });
});

describe("breakdown", () => {
  const conditions: ScoringCondition[] = [
    behavior({ interaction: "email_opened", frequency: "each", points: 2 }),
    { kind: "contact", field: "jobTitle", op: "contains", value: "director", points: 15 },
    behavior({ interaction: "website_visited", frequency: "each", points: 1, withinDays: 7 }),
    { kind: "account", field: "industry", op: "eq", value: "Retail", points: 10 },
    behavior({ interaction: "event_attended", frequency: "once", points: 25 }),
    behavior({ interaction: "email_clicked", frequency: "none", points: -5 }),
  ];

  it("lists only the conditions that contributed, in condition order, with their counts", () => {
    const result = evaluateLead(
      rules(conditions),
      subject(
        [
          [0, [counter("c-1", 3)]],
          // every visit outside the window: contributes nothing
          [2, [counter("c-1", 2, [daysAgo(8), daysAgo(9)])]],
          [5, [counter("c-1", 1)]],
        ],
        { contact: { jobTitle: "IT Director" }, account: { industry: "Software" } },
      ),
      now,
    );
    expect(result.score).toBe(6 + 15);
    expect(result.breakdown).toEqual([
      { condition: 0, kind: "behavior", label: "email opened: each time", points: 6, count: 3, contributors: [{ contactId: "c-1", count: 3 }] },
      { condition: 1, kind: "contact", label: "Job title contains director", points: 15 },
    ]);
  });

  it("sorts contributors by count, then by contact id, and leaves out contacts with nothing counted", () => {
    const condition = behavior({ interaction: "website_visited", frequency: "each", points: 1, withinDays: 30 });
    const result = evaluateLead(
      rules([condition], { target: "account" }),
      subject(
        [
          [
            0,
            [
              counter("c-b", 2, [daysAgo(1), daysAgo(2)]),
              counter("c-d", 1, [daysAgo(40)]),
              counter("c-a", 2, [daysAgo(3), daysAgo(4)]),
              counter("c-c", 5, [daysAgo(1), daysAgo(2), daysAgo(3), daysAgo(4), daysAgo(5)]),
            ],
          ],
        ],
        { contact: null },
      ),
      now,
    );
    expect(result.score).toBe(9);
    expect(result.breakdown[0]?.count).toBe(9);
    expect(result.breakdown[0]?.contributors).toEqual([
      { contactId: "c-c", count: 5 },
      { contactId: "c-a", count: 2 },
      { contactId: "c-b", count: 2 },
    ]);
  });

  it("a none condition that contributes has a count of 0 and no contributors", () => {
    const result = evaluateLead(rules([behavior({ frequency: "none", points: 4 })]), subject(), now);
    expect(result.breakdown).toEqual([{ condition: 0, kind: "behavior", label: "form submitted: never", points: 4, count: 0, contributors: [] }]);
  });
});

describe("nextExpiryAt", () => {
  it("is the oldest counted occurrence plus the window", () => {
    const condition = behavior({ frequency: "each", withinDays: 7 });
    const result = evaluateLead(rules([condition]), subject([[0, [counter("c-1", 3, [daysAgo(1), daysAgo(3), daysAgo(2)])]]]), now);
    expect(result.nextExpiryAt).toBe(at(4 * dayMs));
  });

  it("looks at every contributing contact", () => {
    const condition = behavior({ frequency: "each", withinDays: 7 });
    const result = evaluateLead(
      rules([condition]),
      subject([[0, [counter("c-1", 1, [daysAgo(1)]), counter("c-2", 1, [daysAgo(5)])]]]),
      now,
    );
    expect(result.nextExpiryAt).toBe(at(2 * dayMs));
  });

  it("is the earliest across conditions", () => {
    const result = evaluateLead(
      rules([behavior({ interaction: "email_opened", withinDays: 7 }), behavior({ interaction: "email_clicked", withinDays: 30 })]),
      subject([
        [0, [counter("c-1", 1, [daysAgo(3)])]],
        [1, [counter("c-1", 1, [daysAgo(29)])]],
      ]),
      now,
    );
    expect(result.nextExpiryAt).toBe(at(dayMs));
  });

  it("ignores occurrences already outside the window and future ones", () => {
    const condition = behavior({ frequency: "each", withinDays: 7 });
    const result = evaluateLead(rules([condition]), subject([[0, [counter("c-1", 3, [at(dayMs), daysAgo(2), daysAgo(7)])]]]), now);
    expect(result.nextExpiryAt).toBe(at(5 * dayMs));
  });

  it.each([
    ["no windowed conditions", [behavior({ frequency: "each" })], [[0, [counter("c-1", 3)]]]],
    ["a windowed condition with nothing inside the window", [behavior({ frequency: "each", withinDays: 7 })], [[0, [counter("c-1", 1, [daysAgo(8)])]]]],
    ["a windowed condition with no counters", [behavior({ frequency: "each", withinDays: 7 })], []],
    ["only field conditions", [{ kind: "contact", field: "jobTitle", op: "exists", points: 5 } as ScoringCondition], []],
  ] as Array<[string, ScoringCondition[], Array<[number, BehaviorCounter[]]>]>)("is null with %s", (_name, conditions, counters) => {
    expect(evaluateLead(rules(conditions), subject(counters, { contact: { jobTitle: "CTO" } }), now).nextExpiryAt).toBeNull();
  });

  it("a none condition's expiry is when its points come back", () => {
    const condition = behavior({ frequency: "none", withinDays: 10, points: 6 });
    const counters: Array<[number, BehaviorCounter[]]> = [[0, [counter("c-1", 1, [daysAgo(4)])]]];
    const result = evaluateLead(rules([condition]), subject(counters), now);
    expect(result).toMatchObject({ score: 0, nextExpiryAt: at(6 * dayMs) });
    expect(evaluateLead(rules([condition]), subject(counters), new Date(result.nextExpiryAt!)).score).toBe(6);
  });

  it("the score holds until the expiry and falls exactly at it", () => {
    const condition = behavior({ frequency: "each", withinDays: 7, points: 5 });
    const counters: Array<[number, BehaviorCounter[]]> = [[0, [counter("c-1", 2, [daysAgo(1), daysAgo(6)])]]];
    const first = evaluateLead(rules([condition]), subject(counters), now);
    expect(first.score).toBe(10);
    const expiry = Date.parse(first.nextExpiryAt!);
    expect(evaluateLead(rules([condition]), subject(counters), new Date(expiry - 1)).score).toBe(10);
    const after = evaluateLead(rules([condition]), subject(counters), new Date(expiry));
    expect(after.score).toBe(5);
    expect(after.nextExpiryAt).toBe(at(6 * dayMs));
  });
});

describe("salesReadyAfter", () => {
  it.each([
    // previous, score, threshold, keep → salesReady, crossed, dropped
    ["below, never ready", false, 99, 100, true, { salesReady: false, crossed: false, dropped: false }],
    ["reaches the threshold exactly", false, 100, 100, true, { salesReady: true, crossed: true, dropped: false }],
    ["goes above the threshold (no hysteresis)", false, 150, 100, false, { salesReady: true, crossed: true, dropped: false }],
    ["stays above: no second crossing", true, 120, 100, true, { salesReady: true, crossed: false, dropped: false }],
    ["stays at the threshold without keeping", true, 100, 100, false, { salesReady: true, crossed: false, dropped: false }],
    ["drops below but the model keeps sales-ready leads", true, 50, 100, true, { salesReady: true, crossed: false, dropped: false }],
    ["drops below and the model does not keep them", true, 99, 100, false, { salesReady: false, crossed: false, dropped: true }],
    ["below and not ready, not keeping", false, 50, 100, false, { salesReady: false, crossed: false, dropped: false }],
    ["negative score", false, -20, 1, true, { salesReady: false, crossed: false, dropped: false }],
  ])("%s", (_name, previous, score, threshold, keep, expected) => {
    expect(salesReadyAfter(previous, score, threshold, keep)).toEqual(expected);
  });

  it("kept through a drop, it does not cross again when the score comes back", () => {
    const dropped = salesReadyAfter(true, 10, 100, true);
    expect(salesReadyAfter(dropped.salesReady, 100, 100, true).crossed).toBe(false);
    const cleared = salesReadyAfter(true, 10, 100, false);
    expect(salesReadyAfter(cleared.salesReady, 100, 100, false).crossed).toBe(true);
  });
});

describe("sameContext and interactionCounts", () => {
  const none: MarketingContext = { formId: null, eventId: null, campaign: null };
  it.each([
    ["same form", { ...none, formId: "f1" }, { ...none, formId: "f1" }, true],
    ["another form", { ...none, formId: "f1" }, { ...none, formId: "f2" }, false],
    ["same event", { ...none, eventId: "e1" }, { ...none, eventId: "e1" }, true],
    ["same campaign", { ...none, campaign: "spring" }, { ...none, campaign: "spring" }, true],
    ["campaign names are compared exactly", { ...none, campaign: "spring" }, { ...none, campaign: "Spring" }, false],
    ["a lead without context matches nothing, not even interactions without context", none, none, false],
    ["an interaction without context", { ...none, formId: "f1" }, none, false],
    ["another kind of context", { ...none, formId: "f1" }, { ...none, eventId: "f1" }, false],
    ["any one of them is enough", { formId: "f1", eventId: "e1", campaign: "c" }, { formId: "f9", eventId: "e9", campaign: "c" }, true],
  ] as Array<[string, MarketingContext, MarketingContext, boolean]>)("%s → %s", (_name, lead, interaction, expected) => {
    expect(sameContext(lead, interaction)).toBe(expected);
  });

  const lead: MarketingContext = { ...none, formId: "f1" };
  it.each([
    ["the condition's type", behavior({ interaction: "form_submitted" }), { ...none, type: "form_submitted" }, true],
    ["another type", behavior({ interaction: "form_submitted" }), { ...none, type: "email_opened" }, false],
    ["sameContext, same form", behavior({ sameContext: true }), { ...none, formId: "f1", type: "form_submitted" }, true],
    ["sameContext, another form", behavior({ sameContext: true }), { ...none, formId: "f2", type: "form_submitted" }, false],
    ["sameContext false: any context", behavior({ sameContext: false }), { ...none, formId: "f2", type: "form_submitted" }, true],
    ["sameContext but another type", behavior({ sameContext: true }), { ...none, formId: "f1", type: "email_opened" }, false],
  ] as Array<[string, BehaviorCondition, MarketingContext & { type: BehaviorCondition["interaction"] }, boolean]>)(
    "interactionCounts: %s → %s",
    (_name, condition, interaction, expected) => {
      expect(interactionCounts(condition, lead, interaction)).toBe(expected);
    },
  );
});

describe("modelApplies and isScorable", () => {
  it.each([
    ["contact", "a contact-based lead", { contactId: "c", accountId: null }, true],
    ["contact", "a lead with contact and account", { contactId: "c", accountId: "a" }, true],
    ["contact", "an account-based lead", { contactId: null, accountId: "a" }, false],
    ["contact", "an unscorable lead", { contactId: null, accountId: null }, false],
    ["account", "an account-based lead", { contactId: null, accountId: "a" }, true],
    ["account", "a lead whose contact has an account", { contactId: "c", accountId: "a" }, true],
    ["account", "a lead whose contact has no account", { contactId: "c", accountId: null }, false],
    ["account", "an unscorable lead", { contactId: null, accountId: null }, false],
  ] as Array<[ModelTarget, string, { contactId: string | null; accountId: string | null }, boolean]>)(
    "a %s model scores %s: %s",
    (target, _name, lead, expected) => {
      expect(modelApplies(target, lead)).toBe(expected);
    },
  );

  it.each([
    [{ contactId: "c", accountId: null }, true],
    [{ contactId: null, accountId: "a" }, true],
    [{ contactId: null, accountId: null }, false],
  ])("isScorable(%j) → %s", (lead, expected) => {
    expect(isScorable(lead)).toBe(expected);
  });
});

describe("trendOf", () => {
  it.each([
    [10, null, "flat"],
    [10, 10, "flat"],
    [12, 10, "up"],
    [8, 10, "down"],
    [-5, 0, "down"],
    [0, -5, "up"],
  ] as const)("%d after %s → %s", (score, previous, expected) => {
    expect(trendOf(score, previous)).toBe(expected);
  });
});

describe("describeCondition", () => {
  it.each([
    [behavior({ interaction: "form_submitted", frequency: "each" }), "form submitted: each time"],
    [behavior({ interaction: "email_clicked", frequency: "once" }), "email link clicked: at least once"],
    [behavior({ interaction: "email_clicked", frequency: "once", minCount: 1 }), "email link clicked: at least once"],
    [behavior({ interaction: "website_visited", frequency: "once", minCount: 3, withinDays: 30 }), "website visited: at least 3 times, last 30 days"],
    [behavior({ interaction: "event_attended", frequency: "none", withinDays: 1 }), "attended an event: never, last 1 day"],
    [behavior({ interaction: "event_registered", frequency: "each", sameContext: true }), "registered for an event: each time, same campaign/form/event"],
    [behavior({ interaction: "email_opened", frequency: "each", withinDays: 7, sameContext: true }), "email opened: each time, last 7 days, same campaign/form/event"],
    [{ kind: "contact", field: "jobTitle", op: "eq", value: "Director", points: 1 }, "Job title is Director"],
    [{ kind: "contact", field: "country", op: "neq", value: "US", points: 1 }, "Country is not US"],
    [{ kind: "contact", field: "country", op: "in", value: ["DE", "FR"], points: 1 }, "Country is one of DE, FR"],
    [{ kind: "contact", field: "jobTitle", op: "contains", value: "sales", points: 1 }, "Job title contains sales"],
    [{ kind: "contact", field: "phone", op: "exists", points: 1 }, "Phone is set"],
    [{ kind: "account", field: "employeeCount", op: "gte", value: 500, points: 1 }, "Employees ≥ 500"],
    [{ kind: "account", field: "annualRevenue", op: "lt", value: 1000000, points: 1 }, "Annual revenue < 1000000"],
    [{ kind: "account", field: "country", op: "eq", value: "DE", points: 1 }, "Account country is DE"],
    [{ kind: "contact", field: "favouriteColour", op: "eq", value: "blue", points: 1 }, "favouriteColour is blue"],
  ] as Array<[ScoringCondition, string]>)("%j → %s", (condition, label) => {
    expect(describeCondition(condition)).toBe(label);
  });

  it("labels every breakdown item the same way", () => {
    const condition = behavior({ frequency: "once", minCount: 2, withinDays: 14, points: 9 });
    const result = evaluateLead(rules([condition]), subject([[0, [counter("c-1", 2, [daysAgo(1), daysAgo(2)])]]]), now);
    expect(result.breakdown[0]?.label).toBe("form submitted: at least 2 times, last 14 days");
  });
});
