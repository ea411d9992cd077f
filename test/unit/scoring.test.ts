import { describe, expect, it } from "vitest";
import {
  dayMs,
  describeCondition,
  evaluateLead,
  fieldMatches,
  insideWindow,
  type BehaviorCondition,
  type BehaviorCounter,
  type FieldCondition,
  type FieldOp,
  type ScoringCondition,
  type ScoringSubject,
} from "../../shared/domain/scoring.ts";
import { at, behavior, counter, daysAgo, now, rules, subject } from "../support/scoring-fixtures.ts";

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
