import { afterEach, describe, expect, it } from "vitest";
import { flushSync } from "svelte";
import { BoardState, type BoardSocket } from "../../../client/src/lib/board.svelte.ts";
import { BoardScores, type QueryStore } from "../../../client/src/lib/scores.svelte.ts";
import type { BoardEvent, BoardSnapshot, BoardStage, LeadCard } from "../../../shared/board.ts";
import type { Role } from "../../../shared/schemas/common.ts";
import type { ScoreExplanation, ScoringModelView } from "../../../shared/schemas/scoring.ts";
import { FakeBoardSocket as FakeSocket } from "../../support/fake-board-socket.ts";

// BoardState listens to the browser's online/offline events.
(globalThis as unknown as { window: EventTarget }).window = new EventTarget();


const stages: BoardStage[] = [
  { id: "s0", key: "inquiry", name: "Inquiry", position: 0, entryRequirements: [], gateFlag: null, salesReadyJump: false, fields: [], timeLimits: null },
  { id: "s1", key: "amq", name: "AMQ", position: 1, entryRequirements: ["has_parent"], gateFlag: null, salesReadyJump: false, fields: [], timeLimits: null },
  { id: "s2", key: "sales", name: "Sales", position: 2, entryRequirements: ["has_parent", "sales_ready"], gateFlag: null, salesReadyJump: true, fields: [], timeLimits: null },
];
function card(stage: string, extra: Partial<LeadCard> = {}): LeadCard {
  const st = stages.find((s) => s.key === stage)!;
  return {
    id: "a", topic: "Pricing request", contactId: "c", accountId: null, contactName: "N", companyName: null, processId: "p", stageId: st.id, stage, rank: "a0",
    version: 1, readyForTeleprospecting: false, teleprospectingAccepted: false, salesReady: false, salesAccepted: false, scorable: true, ownerId: null, ownerName: null, campaign: null, formId: null, formName: null,
    score: null, grade: null, scores: [], source: "form", isTest: false, stageEnteredAt: new Date().toISOString(), updatedAt: new Date().toISOString(), ...extra,
  };
}
const complete = (leads: LeadCard[]) => Object.fromEntries(stages.map((s) => [s.key, { total: leads.filter((l) => l.stage === s.key).length, complete: true }]));
const snap = (leads: LeadCard[]): BoardSnapshot => ({ boardId: "b", processId: "p", processName: "P", seq: 1, view: "all", stages, columns: complete(leads), leads, serverTime: new Date().toISOString() });
function scored(lead: LeadCard, extra: Partial<Extract<BoardEvent, { type: "lead.scored" }>> = {}): BoardEvent {
  return { boardId: "b", seq: 2, at: "", actor: { id: null, name: "Scoring", kind: "system" }, type: "lead.scored", lead, changes: [], salesReadyMarked: false, moved: null, ...extra };
}
const flush = () => new Promise((r) => setTimeout(r, 0));

let board: BoardState | undefined;
afterEach(() => board?.stop());

async function joined(role: Role, opened: string[] = []) {
  const sock = new FakeSocket();
  board = new BoardState({ userId: "me", role, onUnauthenticated: () => {}, onOpenLead: (id) => opened.push(id), socket: sock as unknown as BoardSocket });
  board.start();
  sock.up();
  sock.last("board:join").cb(null, { ok: true, data: snap([card("inquiry")]) });
  await flush();
  return { sock, board };
}

describe("lead.scored on the live board", () => {
  it("a score change updates the card without a highlight", async () => {
    const { sock, board } = await joined("marketer");
    sock.fire("board:event", scored(card("inquiry", { score: 15, scores: [{ modelId: "m1", score: 15, grade: null, previousScore: 5, salesReady: false }] })));
    expect(board.cards.get("a")!.score).toBe(15);
    expect(board.seq).toBe(2);
    expect(board.notices.highlights.has("a")).toBe(false);
    expect(board.notices.toasts).toEqual([]);
  });
  it("a move by scoring lands in the new column and reads 'moved by Scoring'", async () => {
    const { sock, board } = await joined("marketer");
    sock.fire("board:event", scored(card("amq", { version: 2, score: 5 }), { moved: { fromStage: "inquiry", toStage: "amq" } }));
    expect(board.columns.get("amq")!.map((c) => c.id)).toEqual(["a"]);
    expect(board.notices.highlights.get("a")?.text).toBe("moved by Scoring");
  });
  it("a salesperson is told when a lead crosses, and can open it from the toast", async () => {
    const opened: string[] = [];
    const { sock, board } = await joined("salesperson", opened);
    sock.fire(
      "board:event",
      scored(card("sales", { version: 2, salesReady: true, score: 60 }), {
        salesReadyMarked: true,
        moved: { fromStage: "inquiry", toStage: "sales" },
        changes: [{ modelId: "m1", modelName: "Web interest", from: 45, to: 60, grade: "A", threshold: 50, crossedThreshold: true }],
      }),
    );
    const [toast] = board.notices.toasts;
    expect(toast?.text).toBe("Pricing request is sales-ready: Web interest 60 ≥ 50");
    expect(toast?.kind).toBe("info");
    toast!.action!.run();
    expect(opened).toEqual(["a"]);
  });
  it("a marketer is not", async () => {
    const { sock, board } = await joined("marketer");
    sock.fire("board:event", scored(card("sales"), { salesReadyMarked: true, changes: [{ modelId: "m1", modelName: "W", from: 1, to: 60, grade: null, threshold: 50, crossedThreshold: true }] }));
    expect(board.notices.toasts).toEqual([]);
  });
});

function model(id: string, status: "live" | "draft"): ScoringModelView {
  return { id, name: `Model ${id}`, target: "contact", threshold: 50, status, grades: [], conditions: [], keepSalesReady: true, version: 1, createdAt: "", updatedAt: "", rescore: null };
}

describe("the board's score model", () => {
  function make(search: string, fetches: string[] = []) {
    const query: QueryStore & { value: string } = { value: search, read: () => query.value, write: (s) => (query.value = s) };
    const scores = new BoardScores(
      {
        listModels: async () => [model("m1", "live"), model("m2", "draft"), model("m3", "live")],
        leadScores: async (leadId) => {
          fetches.push(leadId);
          if (leadId === "bad") throw new Error("boom");
          return [{ modelId: "m1" } as ScoreExplanation];
        },
      },
      query,
    );
    return { scores, query };
  }
  it("reads the model from the URL and writes the choice back", async () => {
    const { scores, query } = make("?model=m3");
    expect(scores.chosen).toBe("m3");
    await scores.loadModels(true);
    expect(scores.models?.map((m) => m.id)).toEqual(["m1", "m3"]);
    flushSync();
    expect(scores.modelId).toBe("m3");
    expect(scores.modelName("m3")).toBe("Model m3");
    scores.select(null);
    expect(query.value).toBe("");
    scores.select("m1");
    expect(query.value).toBe("?model=m1");
  });
  it("a model in the URL that is not live shows the best", async () => {
    const { scores } = make("?model=m2");
    await scores.loadModels(true);
    flushSync();
    expect(scores.modelId).toBeNull();
  });
  it("fetches a breakdown once per lead state and keeps errors until forgotten", async () => {
    const fetches: string[] = [];
    const { scores } = make("", fetches);
    scores.request("a", "a|1");
    scores.request("a", "a|1");
    expect(scores.explanation("a|1")).toEqual({ status: "loading" });
    await flush();
    expect(scores.explanation("a|1")).toMatchObject({ status: "ready" });
    scores.request("a", "a|2");
    scores.request("bad", "bad|1");
    await flush();
    expect(fetches).toEqual(["a", "a", "bad"]);
    expect(scores.explanation("bad|1")).toEqual({ status: "error", message: "boom" });
    scores.forget("bad|1");
    scores.request("bad", "bad|1");
    expect(fetches).toHaveLength(4);
  });
});

describe("breakdowns while a newer one loads", () => {
  it("show the last one loaded for the lead", async () => {
    let release: (v: ScoreExplanation[]) => void = () => {};
    const calls: number[] = [];
    const scores = new BoardScores(
      {
        listModels: async () => [],
        leadScores: () => {
          calls.push(calls.length);
          return calls.length === 1 ? Promise.resolve([{ modelId: "old" } as ScoreExplanation]) : new Promise((r) => (release = r));
        },
      },
      { read: () => "", write: () => {} },
    );
    expect(scores.shownExplanation("a", "a|1")).toBeUndefined();
    scores.request("a", "a|1");
    await flush();
    scores.request("a", "a|2");
    expect(scores.explanation("a|2")).toEqual({ status: "loading" });
    expect(scores.shownExplanation("a", "a|2")).toEqual({ status: "ready", scores: [{ modelId: "old" }] });
    release([{ modelId: "new" } as ScoreExplanation]);
    await flush();
    expect(scores.shownExplanation("a", "a|2")).toEqual({ status: "ready", scores: [{ modelId: "new" }] });
  });
});
