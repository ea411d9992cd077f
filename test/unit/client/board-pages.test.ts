import { afterAll, describe, expect, it } from "vitest";
import {
  afterPage,
  applyCountChanges,
  columnCount,
  compareToCursor,
  countChanges,
  isLoadedUpTo,
  loadedCards,
  loadsOfSnapshot,
  mergePage,
  nextColumn,
  pageCardDecision,
  recordTombstone,
  type ColumnLoad,
  type Tombstones,
} from "../../../client/src/lib/board-pages.ts";
import { applyEvent, compareCards, sortCards } from "../../../client/src/lib/board-logic.ts";
import type { BoardEvent, BoardStage, LeadCard } from "../../../shared/board.ts";
import type { BoardView } from "../../../shared/domain/views.ts";
import { rankBetween } from "../../../shared/domain/ranks.ts";

const stage = (key: string, position: number): BoardStage => ({
  id: `s-${key}`,
  key,
  name: key,
  position,
  entryRequirements: [],
  gateFlag: null,
  salesReadyJump: false,
  fields: [],
  timeLimits: null,
});
const stages = [stage("a", 0), stage("b", 1), stage("c", 2)];

function card(id: string, stageKey: string, rank: string, version = 1): LeadCard {
  return {
    id, topic: `Lead ${id}`, contactId: "c", accountId: null, contactName: null, companyName: null, processId: "p",
    stageId: `s-${stageKey}`, stage: stageKey, rank, version, readyForTeleprospecting: false, teleprospectingAccepted: false,
    salesReady: false, salesAccepted: false, scorable: true, ownerId: null, ownerName: null, campaign: null, formId: null,
    formName: null, score: null, grade: null, scores: [], source: "manual", isTest: false, stageEnteredAt: "", updatedAt: "",
  };
}
const actor = { id: "u", name: "Mia", kind: "user" as const };
const common = (seq: number) => ({ boardId: "b", seq, at: "", actor });
const load = (total: number, complete: boolean, cursor: { rank: string; id: string } | null): ColumnLoad => ({ total, complete, cursor });

describe("the merge rule for a page card (read at seq 10)", () => {
  const rows: Array<[string, { version: number } | undefined, number | undefined, number, "take" | "removed" | "known"]> = [
    ["unknown card, no tombstone", undefined, undefined, 1, "take"],
    ["removed after the page was read", undefined, 11, 1, "removed"],
    ["removed after the page, and back since (the client has it)", { version: 5 }, 12, 3, "removed"],
    ["removed before the page was read (it came back by then)", undefined, 9, 4, "take"],
    ["removed at the page's own seq", undefined, 10, 4, "take"],
    ["the client has the same version", { version: 3 }, undefined, 3, "known"],
    ["the client has a newer version (an event after the page)", { version: 4 }, undefined, 3, "known"],
    ["the client has an older version (the page is ahead of it)", { version: 2 }, undefined, 3, "take"],
  ];
  it.each(rows)("%s", (_name, current, tombstone, version, expected) => {
    expect(pageCardDecision(current, tombstone, 10, { version })).toBe(expected);
  });
});

describe("merging a page", () => {
  it("takes new cards, never resurrects a removed one, never regresses a newer one", () => {
    const cards = new Map([["x", card("x", "b", "a5", 4)]]);
    const tombstones: Tombstones = new Map([["gone", 12]]);
    const taken = mergePage(cards, tombstones, {
      seq: 10,
      cards: [card("new", "a", "a3", 1), card("gone", "a", "a4", 1), card("x", "a", "a5", 3)],
    });
    expect(taken.map((c) => c.id)).toEqual(["new"]);
    expect(cards.has("gone")).toBe(false);
    expect(cards.get("x")).toMatchObject({ stage: "b", version: 4 });
  });

  it("records tombstones for removals and cards leaving the view only", () => {
    const tombstones: Tombstones = new Map();
    recordTombstone(tombstones, { ...common(3), type: "lead.removed", reason: "converted", lead: card("r", "a", "a1") });
    recordTombstone(tombstones, { ...common(4), type: "lead.left_view", leadId: "l" });
    recordTombstone(tombstones, { ...common(5), type: "lead.moved", fromStage: "a", toStage: "b", lead: card("m", "b", "a1") });
    expect([...tombstones]).toEqual([["r", 3], ["l", 4]]);
  });
});

describe("cursors and the loaded part of a column", () => {
  const cursor = { rank: "a5", id: "m" };
  it.each([
    ["a4", "z", -1],
    ["a5", "a", -1],
    ["a5", "m", 0],
    ["a5", "n", 1],
    ["a6", "a", 1],
  ] as const)("rank %s id %s against a5/m: %i", (rank, id, sign) => {
    expect(Math.sign(compareToCursor({ rank, id }, cursor))).toBe(sign);
  });

  it("shows an incomplete column up to its cursor, plus the cards asked to keep", () => {
    const column = sortCards([card("1", "a", "a1"), card("2", "a", "a5"), card("3", "a", "a7"), card("4", "a", "a9")]);
    const incomplete = load(10, false, { rank: "a5", id: "2" });
    expect(loadedCards(column, incomplete).map((c) => c.id)).toEqual(["1", "2"]);
    expect(loadedCards(column, incomplete, (c) => c.id === "4").map((c) => c.id)).toEqual(["1", "2", "4"]);
    expect(loadedCards(column, load(4, true, { rank: "a5", id: "2" })).map((c) => c.id)).toEqual(["1", "2", "3", "4"]);
    expect(loadedCards(column, undefined)).toHaveLength(4);
    expect(isLoadedUpTo(load(3, false, null), card("1", "a", "a1"))).toBe(false);
  });

  it.each([
    ["incomplete: the server's total", load(120, false, null), 50, 120],
    ["incomplete, more shown than the total says", load(40, false, null), 50, 50],
    ["complete: the cards shown", load(120, true, null), 7, 7],
    ["unknown column: the cards shown", undefined, 3, 3],
  ] as const)("the header count, %s", (_name, l, shown, expected) => {
    expect(columnCount(l, shown)).toBe(expected);
  });

  it("a snapshot's loads: totals, completeness and the last card of each first page", () => {
    const leads = [card("2", "a", "a2"), card("1", "a", "a1"), card("3", "b", "a1")];
    const loads = loadsOfSnapshot({
      stages,
      leads,
      columns: { a: { total: 300, complete: false }, b: { total: 1, complete: true }, c: { total: 0, complete: true } },
    });
    expect(loads.get("a")).toEqual(load(300, false, { rank: "a2", id: "2" }));
    expect(loads.get("b")).toEqual(load(1, true, { rank: "a1", id: "3" }));
    expect(loads.get("c")).toEqual(load(0, true, null));
    // A snapshot from before paging holds every card.
    expect(loadsOfSnapshot({ stages, leads }).get("a")).toEqual(load(2, true, { rank: "a2", id: "2" }));
  });

  it("a page moves the cursor to its last card; an empty page ends the column", () => {
    const before = load(9, false, { rank: "a1", id: "1" });
    expect(afterPage(before, { cards: [card("5", "a", "a3"), card("6", "a", "a4")], complete: false })).toEqual(load(9, false, { rank: "a4", id: "6" }));
    expect(afterPage(before, { cards: [card("5", "a", "a3")], complete: true })).toEqual(load(9, true, { rank: "a3", id: "5" }));
    expect(afterPage(before, { cards: [], complete: false })).toEqual(load(9, true, { rank: "a1", id: "1" }));
  });

  it("loads the column asked for last first, then the board's columns in order", () => {
    const loads = new Map([["a", load(1, true, null)], ["b", load(9, false, null)], ["c", load(9, false, null)]]);
    expect(nextColumn(loads, stages, [])).toBe("b");
    expect(nextColumn(loads, stages, ["b", "c"])).toBe("c");
    expect(nextColumn(loads, stages, ["c", "a"])).toBe("c");
    expect(nextColumn(loads, stages, ["gone"])).toBe("b");
    expect(nextColumn(new Map([["a", load(1, true, null)]]), stages, [])).toBeNull();
  });
});

describe("column counts while loading", () => {
  const known = card("k", "a", "a1");
  const loaded = () => true;
  const beyond = () => false;
  const rows: Array<[string, BoardEvent, LeadCard | undefined, BoardView, () => boolean, Array<[string, number]>]> = [
    ["created", { ...common(2), type: "lead.created", lead: card("n", "b", "a1") }, undefined, "all", beyond, [["b", 1]]],
    ["moved, known or not", { ...common(2), type: "lead.moved", fromStage: "a", toStage: "c", lead: card("u", "c", "a1", 2) }, undefined, "all", beyond, [["a", -1], ["c", 1]]],
    ["moved within its column", { ...common(2), type: "lead.moved", fromStage: "a", toStage: "a", lead: card("u", "a", "a0", 2) }, undefined, "all", beyond, []],
    ["removed", { ...common(2), type: "lead.removed", reason: "converted", lead: card("u", "b", "a1", 2) }, undefined, "all", beyond, [["b", -1]]],
    ["left the view, known", { ...common(2), type: "lead.left_view", leadId: "k" }, known, "sales_ready", beyond, [["a", -1]]],
    ["left the view, never loaded: cannot tell", { ...common(2), type: "lead.left_view", leadId: "u" }, undefined, "sales_ready", beyond, []],
    ["updated, known", { ...common(2), type: "lead.updated", lead: { ...known, version: 2 } }, known, "all", loaded, []],
    ["updated, not loaded, beyond the cursor: was there", { ...common(2), type: "lead.updated", lead: card("u", "a", "a9", 2) }, undefined, "all", beyond, []],
    ["updated, not loaded, within the loaded part: entered the view", { ...common(2), type: "lead.updated", lead: card("u", "a", "a0", 2) }, undefined, "my_leads", loaded, [["a", 1]]],
    [
      "scored and moved",
      { ...common(2), type: "lead.scored", changes: [], salesReadyMarked: false, moved: { fromStage: "a", toStage: "b" }, lead: card("u", "b", "a1", 2) },
      undefined, "all", beyond, [["a", -1], ["b", 1]],
    ],
    [
      "marked sales-ready, in the sales-ready view: entered it",
      { ...common(2), type: "lead.scored", changes: [], salesReadyMarked: true, moved: { fromStage: "a", toStage: "c" }, lead: card("u", "c", "a1", 2) },
      undefined, "sales_ready", beyond, [["c", 1]],
    ],
    ["stages changed", { ...common(2), type: "stages.changed", processName: "P", stages }, undefined, "all", beyond, []],
  ];
  it.each(rows)("%s", (_name, event, before, view, upTo, expected) => {
    expect(countChanges(event, before, view, upTo).map((c) => [c.stage, c.delta])).toEqual(expected);
  });

  it("adjusts incomplete columns only, never below zero", () => {
    const loads = new Map([["a", load(1, false, null)], ["b", load(5, true, null)]]);
    applyCountChanges(loads, [{ stage: "a", delta: -1 }, { stage: "a", delta: -1 }, { stage: "b", delta: 1 }, { stage: "x", delta: 1 }]);
    expect(loads.get("a")!.total).toBe(0);
    expect(loads.get("b")!.total).toBe(5);
  });
});

/**
 * A column store with an event log, and a client that joins with first pages, lags behind
 * the log, and merges pages read at other seqs than its own: whatever the interleaving, once
 * it has applied everything and loaded every page, it holds exactly the server's cards, and
 * while loading its counts (view "all") match the server's whenever it is caught up.
 */
describe("paging while the board changes (simulation)", () => {
  function random(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s * 1664525 + 1013904223) >>> 0;
      return s / 2 ** 32;
    };
  }

  /** How often each branch of the rule decided, over all seeds: each must be exercised. */
  const decided = { take: 0, removed: 0, known: 0 };
  afterAll(() => {
    expect(decided.removed).toBeGreaterThan(0);
    expect(decided.known).toBeGreaterThan(0);
    expect(decided.take).toBeGreaterThan(0);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])("seed %i", (seed) => {
    const rnd = random(seed);
    const pick = <T,>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
    const keys = stages.map((s) => s.key);
    // The server: its cards after each seq, and the log.
    let server = new Map<string, LeadCard>();
    const history: Array<Map<string, LeadCard>> = [];
    const log: BoardEvent[] = [];
    let nextId = 0;
    const rankIn = (stageKey: string) => {
      const column = sortCards([...server.values()].filter((c) => c.stage === stageKey));
      const i = Math.floor(rnd() * (column.length + 1));
      return rankBetween(column[i - 1]?.rank ?? null, column[i]?.rank ?? null);
    };
    const id = () => `l${String(nextId++).padStart(4, "0")}`;
    for (let i = 0; i < 150; i++) {
      const s = pick(keys);
      const c = card(id(), s, rankIn(s));
      server.set(c.id, c);
    }
    history[0] = new Map(server);
    let inFlight: { stage: string; page: { seq: number; cards: LeadCard[]; complete: boolean } } | null = null;
    const change = () => {
      const seq = log.length + 1;
      const ids = [...server.keys()];
      const roll = rnd();
      server = new Map(server);
      if (roll < 0.2 || ids.length === 0) {
        const s = pick(keys);
        const c = card(id(), s, rankIn(s));
        server.set(c.id, c);
        log.push({ ...common(seq), type: "lead.created", lead: c });
      } else if (roll < 0.55) {
        const old = server.get(pick(ids))!;
        const to = pick(keys);
        const moved = { ...old, stage: to, stageId: `s-${to}`, rank: rankIn(to), version: old.version + 1 };
        server.set(moved.id, moved);
        log.push({ ...common(seq), type: "lead.moved", fromStage: old.stage, toStage: to, lead: moved });
      } else if (roll < 0.7) {
        const old = server.get(pick(ids))!;
        const updated = { ...old, topic: `${old.topic}!`, version: old.version + 1 };
        server.set(updated.id, updated);
        log.push({ ...common(seq), type: "lead.updated", lead: updated });
      } else {
        // Adversarial: often a card of the page in flight (the case tombstones are for).
        const inPage = inFlight?.page.cards.map((c) => c.id).filter((i) => server.has(i)) ?? [];
        const old = server.get(inPage.length > 0 && rnd() < 0.7 ? pick(inPage) : pick(ids))!;
        server.delete(old.id);
        log.push({ ...common(seq), type: "lead.removed", reason: "disqualified", lead: old });
      }
      history[seq] = server;
    };
    const columnAt = (seq: number, stageKey: string) =>
      sortCards([...history[seq]!.values()].filter((c) => c.stage === stageKey));
    const pageAt = (seq: number, stageKey: string, cursor: { rank: string; id: string } | null, limit: number) => {
      const after = columnAt(seq, stageKey).filter((c) => !cursor || compareToCursor(c, cursor) > 0);
      return { seq, cards: after.slice(0, limit), complete: after.length <= limit };
    };

    // The join: first pages of 7 at seq 0.
    const first = 7;
    const leads = keys.flatMap((k) => columnAt(0, k).slice(0, first));
    const columns = Object.fromEntries(keys.map((k) => [k, { total: columnAt(0, k).length, complete: columnAt(0, k).length <= first }]));
    const loads = loadsOfSnapshot({ stages, leads, columns });
    const cards = new Map(leads.map((c) => [c.id, c]));
    const tombstones: Tombstones = new Map();
    let applied = 0;
    const applyNext = () => {
      const event = log[applied]!;
      const id = event.type === "lead.left_view" ? event.leadId : "lead" in event ? event.lead.id : null;
      recordTombstone(tombstones, event);
      applyCountChanges(loads, countChanges(event, id ? cards.get(id) : undefined, "all", (c) => isLoadedUpTo(loads.get(c.stage), c)));
      applyEvent(cards, event);
      applied++;
    };
    const merge = (stageKey: string, page: { seq: number; cards: LeadCard[]; complete: boolean }) => {
      for (const c of page.cards) decided[pageCardDecision(cards.get(c.id), tombstones.get(c.id), page.seq, c)]++;
      mergePage(cards, tombstones, page);
      loads.set(stageKey, afterPage(loads.get(stageKey)!, page));
    };

    for (let step = 0; step < 400; step++) {
      const roll = rnd();
      // The client keeps up, a few events behind: changes land between a page's read and its merge.
      if (roll < 0.3) change();
      else if (roll < 0.75 && applied < log.length) applyNext();
      else if (!inFlight) {
        const stageKey = nextColumn(loads, stages, []);
        // The server reads the page at its own seq, ahead of what the client has applied.
        if (stageKey) inFlight = { stage: stageKey, page: pageAt(log.length, stageKey, loads.get(stageKey)!.cursor, 1 + Math.floor(rnd() * 4)) };
      } else if (rnd() < 0.5) {
        merge(inFlight.stage, inFlight.page);
        inFlight = null;
      }
      // Caught up and nothing in flight: the loaded part of every column is exactly the server's, in order.
      if (applied === log.length && !inFlight) {
        for (const k of keys) {
          const l = loads.get(k)!;
          const mine = sortCards([...cards.values()].filter((c) => c.stage === k));
          const theirs = columnAt(applied, k);
          expect(loadedCards(mine, l).map((c) => c.id)).toEqual(theirs.filter((c) => isLoadedUpTo(l, c)).map((c) => c.id));
          expect(columnCount(l, loadedCards(mine, l).length)).toBe(theirs.length);
        }
      }
    }
    if (inFlight) merge(inFlight.stage, inFlight.page);
    while (applied < log.length) applyNext();
    for (let k = nextColumn(loads, stages, []); k !== null; k = nextColumn(loads, stages, [])) {
      merge(k, pageAt(log.length, k, loads.get(k)!.cursor, 5));
    }
    const expected = [...history[log.length]!.values()].sort(compareCards);
    expect([...cards.values()].sort(compareCards)).toEqual(expected);
  });
});
