import { afterEach, describe, expect, it, vi } from "vitest";
import { BoardFilterState, textDelayMs } from "../../../client/src/lib/board-filters.svelte.ts";
import type { CardScore, LeadCard } from "../../../shared/board.ts";
import {
  activeFilterCount,
  cleanFilters,
  countText,
  filterOptions,
  filtersFromSearch,
  foldText,
  matchesFilters,
  sameFilters,
  searchWithFilters,
  searchWithTarget,
  targetFromSearch,
  type BoardFilters,
} from "../../../client/src/lib/filters.ts";
import { modelFromSearch, searchWithModel } from "../../../client/src/lib/score-logic.ts";

const me = "11111111-1111-4111-8111-111111111111";
const other = "22222222-2222-4222-8222-222222222222";
const formA = "33333333-3333-4333-8333-333333333333";
const formB = "44444444-4444-4444-8444-444444444444";
const modelX = "55555555-5555-4555-8555-555555555555";
const processId = "66666666-6666-4666-8666-666666666666";

let serial = 0;
function makeCard(extra: Partial<LeadCard> = {}): LeadCard {
  serial++;
  return {
    id: `lead-${serial}`,
    topic: `Lead ${serial}`,
    contactId: "c",
    accountId: null,
    contactName: null,
    companyName: null,
    processId: "p",
    stageId: "s",
    stage: "inquiry",
    rank: "a0",
    version: 1,
    readyForTeleprospecting: false,
    teleprospectingAccepted: false,
    salesReady: false,
    salesAccepted: false,
    scorable: true,
    ownerId: null,
    ownerName: null,
    campaign: null,
    formId: null,
    formName: null,
    score: null,
    grade: null,
    scores: [],
    source: "form",
    isTest: false,
    stageEnteredAt: "2025-01-01T00:00:00.000Z",
    updatedAt: "2025-01-01T00:00:00.000Z",
    ...extra,
  };
}

const score = (modelId: string, value: number, grade: string | null): CardScore => ({
  modelId,
  score: value,
  grade,
  previousScore: null,
  salesReady: false,
});

describe("filtersFromSearch", () => {
  it.each<[string, string, BoardFilters]>([
    ["nothing", "", {}],
    ["owner me", "?owner=me", { owner: "me" }],
    ["owner unassigned", "?owner=none", { owner: "none" }],
    ["owner by id", `?owner=${other}`, { owner: other }],
    ["campaign, trimmed", "?campaign=%20Spring%20launch%20", { campaign: "Spring launch" }],
    ["form", `?form=${formA}`, { form: formA }],
    ["grades with a literal comma", "?grade=A,B", { grades: ["A", "B"] }],
    ["grades with an encoded comma, repeats and blanks", "?grade=A%2C%20B%2C%2CA", { grades: ["A", "B"] }],
    ["sales-ready yes", "?ready=1", { salesReady: true }],
    ["sales-ready no", "?ready=0", { salesReady: false }],
    ["text with + for spaces", "?q=acme+renewal", { text: "acme renewal" }],
    [
      "everything, among other parameters",
      `?model=${modelX}&owner=me&campaign=Spring&form=${formB}&grade=C&ready=0&q=acme&process=${processId}`,
      { owner: "me", campaign: "Spring", form: formB, grades: ["C"], salesReady: false, text: "acme" },
    ],
  ])("reads %s", (_name, search, expected) => {
    expect(filtersFromSearch(search)).toEqual(expected);
  });

  it.each<[string, string, BoardFilters]>([
    ["an owner that is neither me, none nor an id", "?owner=bob", {}],
    ["a form that is not an id", "?form=contact-us", {}],
    ["an empty campaign", "?campaign=%20%20", {}],
    ["a campaign past 200 characters", `?campaign=${"x".repeat(201)}`, {}],
    ["grades that are all blank", "?grade=,,%20", {}],
    ["a grade past 20 characters (the others stay)", `?grade=A,${"Z".repeat(21)}`, { grades: ["A"] }],
    ["a ready flag other than 1 or 0", "?ready=maybe", {}],
    ["a blank search", "?q=%20%20", {}],
    ["one bad value among good ones", `?owner=bob&ready=1&form=nope&q=x`, { salesReady: true, text: "x" }],
    ["unknown parameters", "?colour=red&owner=me", { owner: "me" }],
  ])("ignores %s", (_name, search, expected) => {
    expect(filtersFromSearch(search)).toEqual(expected);
  });

  it("cuts a search past 200 characters instead of dropping it", () => {
    expect(filtersFromSearch(`?q=${"a".repeat(250)}`).text).toHaveLength(200);
  });

  it("keeps at most 20 grades", () => {
    const many = Array.from({ length: 30 }, (_, i) => `G${i}`).join(",");
    expect(filtersFromSearch(`?grade=${many}`).grades).toHaveLength(20);
  });
});

describe("searchWithFilters", () => {
  it.each<[string, string, BoardFilters, string]>([
    ["writes nothing for no filters", "", {}, ""],
    ["writes grades with a readable comma", "", { grades: ["A", "B"] }, "?grade=A,B"],
    ["writes sales-ready as 1 or 0", "", { salesReady: false }, "?ready=0"],
    ["keeps the model parameter first", `?model=${modelX}`, { owner: "me" }, `?model=${modelX}&owner=me`],
    ["removes filters that are no longer set", `?owner=me&model=${modelX}&q=old`, {}, `?model=${modelX}`],
    ["replaces a value in place", `?q=old&model=${modelX}`, { text: "new" }, `?q=new&model=${modelX}`],
    ["keeps process and view", `?process=${processId}&view=all`, { text: "a b" }, `?process=${processId}&view=all&q=a+b`],
  ])("%s", (_name, search, filters, expected) => {
    expect(searchWithFilters(search, filters)).toBe(expected);
  });

  it.each<[string, BoardFilters]>([
    ["empty", {}],
    ["owner", { owner: other }],
    ["all of them", { owner: "none", campaign: "Spring, 2025 & more", form: formA, grades: ["A", "B+"], salesReady: true, text: "Zoë & co?" }],
    ["unicode and symbols", { campaign: "Été #1 / 50%", text: "ü=1&x" }],
  ])("round-trips %s through the query string", (_name, filters) => {
    const search = searchWithFilters(`?model=${modelX}`, filters);
    expect(filtersFromSearch(search)).toEqual(filters);
    expect(modelFromSearch(search)).toBe(modelX);
  });

  it("leaves the filters alone when the model changes", () => {
    const withFilters = searchWithFilters("", { owner: "me", grades: ["A"] });
    const withModel = searchWithModel(withFilters, modelX);
    expect(filtersFromSearch(withModel)).toEqual({ owner: "me", grades: ["A"] });
    expect(filtersFromSearch(searchWithModel(withModel, null))).toEqual({ owner: "me", grades: ["A"] });
  });
});

describe("the board named in the link", () => {
  it.each<[string, string, ReturnType<typeof targetFromSearch>]>([
    ["nothing", "?owner=me", {}],
    ["process and view", `?process=${processId}&view=sales_ready`, { processId, view: "sales_ready" }],
    ["a process that is not an id", "?process=default&view=all", { view: "all" }],
    ["an unknown view", `?process=${processId}&view=everything`, { processId }],
  ])("reads %s", (_name, search, expected) => {
    expect(targetFromSearch(search)).toEqual(expected);
  });

  it("ignores a view the role may not open", () => {
    expect(targetFromSearch("?view=all", ["sales_ready", "my_leads"])).toEqual({});
    expect(targetFromSearch("?view=my_leads", ["sales_ready", "my_leads"])).toEqual({ view: "my_leads" });
  });

  it("writes the target and keeps the filters and the model", () => {
    const start = `?model=${modelX}&owner=me&view=all`;
    const search = searchWithTarget(start, { processId, view: "teleprospecting_queue" });
    expect(search).toBe(`?model=${modelX}&owner=me&view=teleprospecting_queue&process=${processId}`);
    expect(searchWithTarget(search, {})).toBe(`?model=${modelX}&owner=me`);
  });
});

describe("cleanFilters (a saved view's filters)", () => {
  it.each<[string, unknown, BoardFilters]>([
    ["not an object", "owner=me", {}],
    ["null", null, {}],
    ["valid ones", { owner: "me", grades: ["A"], salesReady: true }, { owner: "me", grades: ["A"], salesReady: true }],
    ["wrong types dropped one by one", { owner: 5, salesReady: "yes", text: "  hi ", grades: "A" }, { text: "hi" }],
    ["empty grades", { grades: [] }, {}],
  ])("%s", (_name, value, expected) => {
    expect(cleanFilters(value)).toEqual(expected);
  });
});

describe("matchesFilters", () => {
  const mine = makeCard({ ownerId: me, ownerName: "Mia Marketer", campaign: "Spring", formId: formA, formName: "Contact us" });
  const theirs = makeCard({
    topic: "Acme renewal",
    ownerId: other,
    ownerName: "Olga Owner",
    companyName: "Acme GmbH",
    contactName: "Zoë Müller",
    salesReady: true,
    score: 80,
    grade: "A",
    scores: [score(modelX, 40, "C"), score("m2", 80, "A")],
  });
  const nobody = makeCard({ topic: "Loose lead", campaign: "Autumn", score: 50, grade: "B", scores: [score(modelX, 50, "B")] });
  const cards = [mine, theirs, nobody];

  it.each<[string, BoardFilters, LeadCard[]]>([
    ["no filters let everything through", {}, cards],
    ["owner me", { owner: "me" }, [mine]],
    ["owner none", { owner: "none" }, [nobody]],
    ["owner by id", { owner: other }, [theirs]],
    ["campaign, exactly", { campaign: "Spring" }, [mine]],
    ["campaign is not a substring match", { campaign: "Spr" }, []],
    ["form", { form: formA }, [mine]],
    ["sales-ready", { salesReady: true }, [theirs]],
    ["not sales-ready", { salesReady: false }, [mine, nobody]],
    ["grades: any of them, by the best score", { grades: ["A", "B"] }, [theirs, nobody]],
    ["grades leave out unscored leads", { grades: ["A", "B", "C"] }, [theirs, nobody]],
    ["text in the topic, any case", { text: "ACME" }, [theirs]],
    ["text in the company", { text: "gmbh" }, [theirs]],
    ["text in the contact, without accents", { text: "zoe muller" }, [theirs]],
    ["text in the owner's name", { text: "mia" }, [mine]],
    ["text in the campaign", { text: "autumn" }, [nobody]],
    ["text in the form name", { text: "contact us" }, [mine]],
    ["every word must be found, in any field", { text: "renewal olga" }, [theirs]],
    ["a word found nowhere", { text: "renewal spring" }, []],
    ["several filters at once", { owner: other, salesReady: true, text: "acme", grades: ["A"] }, [theirs]],
  ])("%s", (_name, filters, expected) => {
    expect(cards.filter((c) => matchesFilters(c, filters, me))).toEqual(expected);
  });

  it("matches the grade the chosen model shows", () => {
    expect(cards.filter((c) => matchesFilters(c, { grades: ["C"] }, me, modelX))).toEqual([theirs]);
    expect(cards.filter((c) => matchesFilters(c, { grades: ["A"] }, me, modelX))).toEqual([]);
  });

  it("'me' matches nothing without a user", () => {
    expect(cards.filter((c) => matchesFilters(c, { owner: "me" }, null))).toEqual([]);
  });

  it("folds case and accents", () => {
    expect(foldText("Zoë ÉTÉ")).toBe("zoe ete");
  });
});

describe("filterOptions", () => {
  const cards = [
    makeCard({ ownerId: other, ownerName: "Olga", campaign: "Spring", formId: formA, formName: "Contact us", grade: "B", score: 50, scores: [score("m", 50, "B")] }),
    makeCard({ ownerId: me, ownerName: "Mia", campaign: "Autumn", grade: "A", score: 90, scores: [score("m", 90, "A")] }),
    makeCard({ ownerId: me, ownerName: "Mia", campaign: "Spring", grade: "B10", score: 10, scores: [score("m", 10, "B10")] }),
    makeCard({ grade: "B2", score: 20, scores: [score("m", 20, "B2")] }),
  ];

  it("lists the owners, campaigns, forms and grades on the board, sorted", () => {
    expect(filterOptions(cards, {})).toEqual({
      owners: [
        { value: me, label: "Mia" },
        { value: other, label: "Olga" },
      ],
      campaigns: [
        { value: "Autumn", label: "Autumn" },
        { value: "Spring", label: "Spring" },
      ],
      forms: [{ value: formA, label: "Contact us" }],
      grades: ["A", "B", "B2", "B10"],
    });
  });

  it("keeps what is selected even when no card has it", () => {
    const options = filterOptions([], { owner: other, campaign: "Gone", form: formB, grades: ["Z"] });
    expect(options.owners).toEqual([{ value: other, label: "Another owner" }]);
    expect(options.campaigns).toEqual([{ value: "Gone", label: "Gone" }]);
    expect(options.forms).toEqual([{ value: formB, label: "Another form" }]);
    expect(options.grades).toEqual(["Z"]);
  });
});

describe("small helpers", () => {
  it("counts active filters and compares filters", () => {
    expect(activeFilterCount({})).toBe(0);
    expect(activeFilterCount({ owner: "me", salesReady: false })).toBe(2);
    expect(sameFilters({ grades: ["A"], owner: "me" }, { owner: "me", grades: ["A"] })).toBe(true);
    expect(sameFilters({ grades: ["A"] }, { grades: ["B"] })).toBe(false);
  });

  it.each([
    [42, 320, "Showing 42 of 320 leads"],
    [1, 1, "Showing 1 of 1 lead"],
    [0, 0, "Showing 0 of 0 leads"],
  ])("count %i of %i", (shown, total, text) => {
    expect(countText(shown, total)).toBe(text);
  });

  it("says the count is of the cards loaded so far while a big board is still loading", () => {
    expect(countText(42, 500, true)).toBe("Showing 42 of 500 leads (loading…)");
  });
});

describe("BoardFilterState (the URL kept in step)", () => {
  function setup(search = "", loading = false) {
    const query = { search, writes: 0, read: () => query.search, write: (s: string) => { query.search = s; query.writes++; } };
    const cards = [makeCard({ topic: "Acme", ownerId: me, ownerName: "Mia" }), makeCard({ topic: "Globex" })];
    const state = new BoardFilterState(
      { userId: me, views: ["all", "sales_ready"], cards: () => cards, modelId: () => null, loading: () => loading },
      query,
    );
    return { query, state, cards };
  }

  afterEach(() => vi.useRealTimers());

  it("starts from the URL and counts what passes", () => {
    const { state } = setup(`?model=${modelX}&owner=me&grade=,`);
    expect(state.filters).toEqual({ owner: "me" });
    expect(state.active).toBe(true);
    expect(state.counts).toEqual({ total: 2, shown: 1, loading: false });
    expect(setup("?owner=me", true).state.counts).toEqual({ total: 2, shown: 1, loading: true });
  });

  it("writes a change into the URL, keeping the model", () => {
    const { state, query } = setup(`?model=${modelX}`);
    state.update({ owner: "none", salesReady: false });
    expect(query.search).toBe(`?model=${modelX}&owner=none&ready=0`);
    state.update({ owner: undefined });
    expect(query.search).toBe(`?model=${modelX}&ready=0`);
    state.clear();
    expect(query.search).toBe(`?model=${modelX}`);
    expect(state.active).toBe(false);
  });

  it("applies typed text once typing pauses, without trimming what is being typed", () => {
    vi.useFakeTimers();
    const { state, query } = setup();
    state.setText("acm");
    state.setText("acme ");
    expect(state.filters).toEqual({});
    expect(query.writes).toBe(0);
    vi.advanceTimersByTime(textDelayMs);
    expect(state.filters).toEqual({ text: "acme" });
    expect(state.draftText).toBe("acme ");
    expect(query.search).toBe("?q=acme");
    expect(query.writes).toBe(1);
    expect(state.counts.shown).toBe(1);
  });

  it("clears the text at once (Escape) and drops a pending one", () => {
    vi.useFakeTimers();
    const { state, query } = setup("?q=acme");
    state.setText("acme g");
    state.clearText();
    vi.advanceTimersByTime(textDelayMs * 2);
    expect(state.filters).toEqual({});
    expect(state.draftText).toBe("");
    expect(query.search).toBe("");
  });

  it("reads and writes the board named in the link, ignoring views the role may not open", () => {
    const { state, query } = setup(`?process=${processId}&view=my_leads&owner=me`);
    expect(state.readTarget()).toEqual({ processId });
    state.writeTarget({ view: "sales_ready" });
    expect(query.search).toBe("?view=sales_ready&owner=me");
  });

  it("follows the back and forward buttons (popstate) until stopped", () => {
    const g = globalThis as unknown as { window?: EventTarget };
    const saved = g.window;
    g.window = new EventTarget();
    try {
      const { state, query } = setup("?owner=me");
      const targets: unknown[] = [];
      const stop = state.start((target) => targets.push(target));
      query.search = `?q=globex&view=sales_ready&process=${processId}`;
      g.window.dispatchEvent(new Event("popstate"));
      expect(state.filters).toEqual({ text: "globex" });
      expect(state.draftText).toBe("globex");
      expect(targets).toEqual([{ processId, view: "sales_ready" }]);
      query.search = "";
      g.window.dispatchEvent(new Event("popstate"));
      expect(state.filters).toEqual({});
      expect(targets.at(-1)).toEqual({ processId: undefined, view: undefined });
      stop();
      query.search = "?owner=none";
      g.window.dispatchEvent(new Event("popstate"));
      expect(state.filters).toEqual({});
      expect(query.writes).toBe(0);
    } finally {
      g.window = saved;
    }
  });

  it("does not write the URL when nothing changed", () => {
    const { state, query } = setup("?owner=me");
    state.update({ owner: "me" });
    state.set({ owner: "me" });
    expect(query.writes).toBe(0);
  });
});
