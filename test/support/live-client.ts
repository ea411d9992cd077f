/**
 * A board client for socket tests, built from the client's own parts: the Reconnector
 * (backoff with full jitter), the pure rules of board-logic (seq decisions, applying
 * events, planning optimistic moves) and of board-pages (merging the pages of a big board).
 * It mirrors BoardState without Svelte, so a test can run a thousand of them in one process.
 * Unlike BoardState it loads further pages only when asked (`loadPage`, `loadAll`).
 */
import { io } from "socket.io-client";
import type { BoardEvent, BoardPage, BoardSnapshot, BoardStage, LeadCard, ResyncResult } from "../../shared/board.ts";
import type { Ack } from "../../shared/errors.ts";
import type { LeadMoveInput } from "../../shared/schemas/board.ts";
import {
  applyEvent,
  cardsInStage,
  conflictCard,
  planMove,
  seqDecision,
  sortStages,
  upsertCard,
  type Neighbours,
} from "../../client/src/lib/board-logic.ts";
import {
  afterPage,
  applyCountChanges,
  countChanges,
  isLoadedUpTo,
  loadsOfSnapshot,
  mergePage,
  nextColumn,
  pageCardDecision,
  recordTombstone,
  type ColumnLoad,
  type PageCardDecision,
  type Tombstones,
} from "../../client/src/lib/board-pages.ts";
import { delayFor, Reconnector, type BackoffPolicy, type ScheduledRetry } from "../../client/src/lib/reconnect.ts";
import type { BoardView } from "../../shared/domain/views.ts";
import type { TestSocket } from "./server.ts";

export interface LiveClientOptions {
  cookie: string;
  random?: () => number;
  policy?: BackoffPolicy;
  /** How long a join or resync may wait for its answer (the server may queue it). */
  syncTimeoutMs?: number;
  /** A board the page already shows (e.g. one snapshot shared by many clients): the first connection resyncs from it. */
  initial?: BoardSnapshot;
  /** How long a connection must stay up before its drop no longer counts as a failed attempt (the Reconnector's default: 10 s). */
  stableAfterMs?: number;
}

export interface MoveOutcome {
  /** What the client decided before sending: refused by its own gate check, or nothing to do. */
  kind: "sent" | "refused" | "noop";
  payload?: LeadMoveInput;
  ack?: Ack<LeadCard>;
  /** For a rejected move: the optimistic card was no longer shown once the answer came. */
  rolledBack?: boolean;
}

export class LiveBoardClient {
  readonly socket: TestSocket;
  readonly driver: Reconnector;
  readonly retries: ScheduledRetry[] = [];
  boardId: string | null = null;
  view: BoardView | null = null;
  stages: BoardStage[] = [];
  /** How far each column is loaded (complete unless the snapshot left it incomplete). */
  readonly loads = new Map<string, ColumnLoad>();
  /** Pages merged, with the seq each was read at. */
  readonly pagesRead: number[] = [];
  /** How the merge rule decided on the cards of the pages merged. */
  readonly pageDecisions: Record<PageCardDecision, number> = { take: 0, removed: 0, known: 0 };
  seq = 0;
  readonly cards = new Map<string, LeadCard>();
  readonly pending = new Map<string, { original: LeadCard; optimistic: LeadCard }>();
  /** Every event applied, in order, and how it arrived. */
  readonly applied: Array<{ seq: number; via: "live" | "replay"; key: string }> = [];
  /** The seq of each snapshot loaded (a join, or a resync that answered with one). */
  readonly snapshots: number[] = [];
  /** Resyncs answered with events (not with a snapshot). */
  replays = 0;
  connects = 0;
  readonly syncErrors: string[] = [];

  readonly #syncTimeoutMs: number;
  #syncing = false;
  #buffer: BoardEvent[] = [];
  #gen = 0;
  #failures = 0;
  #tombstones: Tombstones = new Map();
  /** Bumped by every snapshot: a page asked for before it is dropped. */
  #pageGen = 0;

  constructor(url: string, options: LiveClientOptions) {
    this.#syncTimeoutMs = options.syncTimeoutMs ?? 30_000;
    this.socket = io(url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      autoConnect: false,
      extraHeaders: { cookie: options.cookie },
    });
    this.driver = new Reconnector(this.socket, {
      ...(options.random ? { random: options.random } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.stableAfterMs !== undefined ? { stableAfterMs: options.stableAfterMs } : {}),
      network: null,
      onSchedule: (r) => this.retries.push(r),
      onConnect: () => {
        this.connects++;
        this.#failures = 0;
        void this.#sync();
      },
      onDisconnect: () => {
        this.#gen++;
        this.#syncing = false;
      },
    });
    this.socket.on("board:event", (event) => this.#receive(event));
    if (options.initial) this.#load(options.initial);
  }

  start(): void {
    this.driver.start();
  }

  stop(): void {
    this.driver.stop();
    this.socket.removeAllListeners();
  }

  /** Connected, joined, and nothing waiting to be applied. */
  get settled(): boolean {
    return this.socket.connected && this.boardId !== null && !this.#syncing && this.#buffer.length === 0;
  }

  /**
   * An optimistic move as BoardState makes it: planned by the shared gate rule, shown at
   * once, then confirmed or undone by the answer. `expectedVersion` forces a stale one;
   * `skipGate` sends a move the client's gate check would have refused.
   */
  async move(
    leadId: string,
    toStage: string,
    where: Neighbours = {},
    options: { expectedVersion?: number; skipGate?: boolean } = {},
  ): Promise<MoveOutcome> {
    const card = this.cards.get(leadId);
    if (!card || this.pending.has(leadId)) return { kind: "noop" };
    const column = cardsInStage(this.cards.values(), toStage);
    let plan = planMove(card, this.stages, column, toStage, where, new Date().toISOString());
    if (plan.kind === "refused" && options.skipGate) {
      const to = this.stages.find((s) => s.key === toStage)!;
      plan = {
        kind: "move",
        optimistic: { ...card, stage: to.key, stageId: to.id },
        payload: { leadId, toStage, expectedVersion: card.version, ...where },
      };
    }
    if (plan.kind !== "move") return { kind: plan.kind };
    const payload = { ...plan.payload, ...(options.expectedVersion ? { expectedVersion: options.expectedVersion } : {}) };
    this.cards.set(leadId, plan.optimistic);
    this.pending.set(leadId, { original: card, optimistic: plan.optimistic });
    let ack: Ack<LeadCard>;
    try {
      ack = await (this.socket.timeout(15_000).emitWithAck as (e: string, p: unknown) => Promise<Ack<LeadCard>>)("lead:move", payload);
    } catch {
      ack = { ok: false, error: { code: "UNAVAILABLE", message: "no answer" } };
    }
    const p = this.pending.get(leadId);
    this.pending.delete(leadId);
    if (ack.ok) {
      upsertCard(this.cards, ack.data);
      return { kind: "sent", payload, ack };
    }
    // Undo, unless the server's state has replaced the optimistic card meanwhile.
    if (p && this.cards.get(leadId) === p.optimistic) this.cards.set(leadId, p.original);
    const current = ack.error.code === "CONFLICT" ? conflictCard(ack.error.details) : undefined;
    if (current) upsertCard(this.cards, current);
    return { kind: "sent", payload, ack, rolledBack: this.cards.get(leadId) !== plan.optimistic };
  }

  /** Every column loaded to its end. */
  get complete(): boolean {
    return [...this.loads.values()].every((l) => l.complete);
  }

  /**
   * Loads the next page of `stage` (default: the first incomplete column) and merges it as
   * BoardState does. False when there was nothing to load or the answer came too late.
   * `beforeMerge` runs between the answer and the merge (an answer that arrives late).
   */
  async loadPage(stage?: string, limit = 500, beforeMerge?: (page: BoardPage) => Promise<void>): Promise<boolean> {
    const key = stage ?? nextColumn(this.loads, this.stages, []);
    const load = key === null ? undefined : this.loads.get(key);
    if (key === null || !load || load.complete || this.boardId === null) return false;
    const gen = this.#pageGen;
    const payload = { boardId: this.boardId, stage: key, limit, ...(load.cursor ? { after: load.cursor } : {}) };
    const res = await (this.socket.timeout(this.#syncTimeoutMs).emitWithAck as (e: string, p: unknown) => Promise<Ack<BoardPage>>)(
      "board:page",
      payload,
    );
    if (!res.ok) throw new Error(`board:page: ${res.error.code} ${res.error.message}`);
    await beforeMerge?.(res.data);
    if (gen !== this.#pageGen) return false;
    for (const c of res.data.cards) this.pageDecisions[pageCardDecision(this.cards.get(c.id), this.#tombstones.get(c.id), res.data.seq, c)]++;
    mergePage(this.cards, this.#tombstones, res.data);
    this.loads.set(key, afterPage(this.loads.get(key) ?? load, res.data));
    this.pagesRead.push(res.data.seq);
    return true;
  }

  /** Loads pages until every column is complete. */
  async loadAll(limit = 500): Promise<void> {
    while (!this.complete) await this.loadPage(undefined, limit);
  }

  async #ask<T>(event: "board:join" | "board:resync", payload: unknown): Promise<Ack<T>> {
    return (this.socket.timeout(this.#syncTimeoutMs).emitWithAck as (e: string, p: unknown) => Promise<Ack<T>>)(event, payload);
  }

  async #sync(): Promise<void> {
    const gen = ++this.#gen;
    this.#syncing = true;
    try {
      if (this.boardId === null) {
        const res = await this.#ask<BoardSnapshot>("board:join", {});
        if (gen !== this.#gen) return;
        if (!res.ok) throw new Error(res.error.code);
        this.#load(res.data);
      } else {
        const res = await this.#ask<ResyncResult>("board:resync", { boardId: this.boardId, sinceSeq: this.seq });
        if (gen !== this.#gen) return;
        if (!res.ok) throw new Error(res.error.code);
        if ("snapshot" in res.data) this.#load(res.data.snapshot);
        else {
          this.replays++;
          for (const e of [...res.data.events].sort((a, b) => a.seq - b.seq)) {
            const d = seqDecision(this.seq, e.seq);
            if (d === "apply") this.#apply(e, "replay");
            else if (d === "gap") this.#buffer.push(e);
          }
        }
      }
    } catch (err) {
      if (gen !== this.#gen) return;
      this.syncErrors.push(String(err));
      this.#syncing = false;
      setTimeout(() => {
        if (this.socket.connected && !this.#syncing && gen === this.#gen) void this.#sync();
      }, delayFor(this.#failures++));
      return;
    }
    this.#syncing = false;
    const queued = this.#buffer.sort((a, b) => a.seq - b.seq);
    this.#buffer = [];
    for (const e of queued) this.#receive(e);
  }

  #receive(event: BoardEvent): void {
    if (this.#syncing || this.boardId === null) {
      this.#buffer.push(event);
      return;
    }
    const d = seqDecision(this.seq, event.seq);
    if (d === "stale") return;
    if (d === "gap") {
      this.#buffer.push(event);
      void this.#sync();
      return;
    }
    this.#apply(event, "live");
  }

  #apply(event: BoardEvent, via: "live" | "replay"): void {
    if (event.type === "stages.changed") this.stages = sortStages(event.stages);
    else {
      const id = event.type === "lead.left_view" ? event.leadId : event.lead.id;
      recordTombstone(this.#tombstones, event);
      const loadedUpTo = (card: LeadCard) => isLoadedUpTo(this.loads.get(card.stage), card);
      applyCountChanges(this.loads, countChanges(event, this.cards.get(id), this.view, loadedUpTo));
      applyEvent(this.cards, event, this.pending);
    }
    this.seq = event.seq;
    this.applied.push({ seq: event.seq, via, key: eventKey(event) });
  }

  #load(snapshot: BoardSnapshot): void {
    this.boardId = snapshot.boardId;
    this.view = snapshot.view;
    this.stages = sortStages(snapshot.stages);
    this.cards.clear();
    for (const c of snapshot.leads) this.cards.set(c.id, c);
    this.#pageGen++;
    this.#tombstones = new Map();
    this.loads.clear();
    for (const [key, load] of loadsOfSnapshot(snapshot)) this.loads.set(key, load);
    this.seq = snapshot.seq;
    this.snapshots.push(snapshot.seq);
  }
}

/** What a board shows of each lead: its column and its place key. */
export function placements(cards: Iterable<LeadCard>): Record<string, { stage: string; rank: string; version: number }> {
  const out: Record<string, { stage: string; rank: string; version: number }> = {};
  for (const c of [...cards].sort((a, b) => (a.id < b.id ? -1 : 1))) out[c.id] = { stage: c.stage, rank: c.rank, version: c.version };
  return out;
}

/** What an event changed, to compare the streams clients saw: type, lead and the version it produced. */
export function eventKey(e: BoardEvent): string {
  if (e.type === "stages.changed") return e.type;
  if (e.type === "lead.left_view") return `${e.type}:${e.leadId}`;
  return `${e.type}:${e.lead.id}:${e.lead.version}`;
}
