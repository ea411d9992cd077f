import { describe, expect, it } from "vitest";
import {
  describeCondition,
  evaluateLead,
  gradeFor,
  interactionCounts,
  isScorable,
  modelApplies,
  salesReadyAfter,
  sameContext,
  timesToKeep,
  trendOf,
  type BehaviorCondition,
  type GradeBand,
  type MarketingContext,
  type ModelTarget,
  type ScoringCondition,
} from "../../shared/domain/scoring.ts";
import { behavior, counter, daysAgo, now, rules, subject } from "../support/scoring-fixtures.ts";

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
