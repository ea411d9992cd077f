/**
 * The live board: one socket, the snapshot, events applied strictly in seq order,
 * resync on gaps and reconnects, and optimistic moves that the server confirms or undoes.
 */
import { io } from "socket.io-client";
import { SvelteMap } from "svelte/reactivity";
import type { BoardEvent, BoardSnapshot, BoardStage, LeadCard, ResyncResult } from "../../../shared/board.ts";
import type { Ack } from "../../../shared/errors.ts";
import type { BoardView } from "../../../shared/domain/views.ts";
import type { ClientToServerEvents, ServerToClientEvents } from "../../../shared/events.ts";
import type { BoardJoinInput } from "../../../shared/schemas/board.ts";
import { BoardPager } from "./board-pager.svelte.ts";
import { applyEvent, conflictCard, groupByStage, highlightText, planMove, seqDecision, sortStages } from "./board-logic.ts";
import { isAnotherBoard, retryLater, sameTarget, settleServerCard, syncKind, type BoardOptions, type BoardTarget, type PendingMove } from "./board-sync-rules.ts";
import { Connection, type ConnectionStatus } from "./connection.svelte.ts";
import { Notices, type Toast, type ToastAction } from "./notices.svelte.ts";
import { fillInAction, missingOf, OwnChangeLog } from "./own-changes.ts";
import { salesReadyToast } from "./score-logic.ts";

export type { BoardSocket, ConnectionStatus } from "./connection.svelte.ts";
export type { BoardOptions, BoardTarget, PendingMove } from "./board-sync-rules.ts";

export interface BoardStateOptions extends BoardOptions {
  /** Join nothing until `switchTo` names a process (a wall learns its board from `wall:config`). */
  awaitTarget?: boolean;
}

const moveTimeoutMs = 8_000;
/** Generous: after a server restart the server queues syncs (its admission limit) rather than failing them. */
const syncTimeoutMs = 20_000;

export class BoardState {
  boardId = $state<string | null>(null);
  processId = $state<string | null>(null);
  /** The view the current snapshot is filtered by (null until the first snapshot). */
  view = $state<BoardView | null>(null);
  processName = $state("");
  stages = $state.raw<BoardStage[]>([]);
  readonly cards = new SvelteMap<string, LeadCard>();
  /** The seq of the last applied event (or of the snapshot). */
  seq = $state(0);
  lastUpdated = $state<Date | null>(null);
  readonly pending = new SvelteMap<string, PendingMove>();
  readonly notices = new Notices();
  /** Lead id → seq of the last event about it: open drawers reload when theirs changes. */
  readonly touched = new SvelteMap<string, number>();
  joinError = $state<string | null>(null);
  /** The server's clock, ticking twice a minute, for "time in stage". */
  now = $state(Date.now());

  readonly columns = $derived(groupByStage(this.stages, this.cards.values()));
  readonly joined = $derived(this.boardId !== null);

  /** The rest of a big board after its snapshot (first pages), loaded in the background. */
  readonly pages: BoardPager = new BoardPager(this);
  readonly #options: BoardStateOptions;
  #buffer: BoardEvent[] = [];
  /** A join or resync awaits its answer on this connection: no other is sent meanwhile. */
  #syncing = false;
  /** A failed sync waits for its backoff; if it timed out, the server may still answer it: nothing goes sooner. */
  #retry: { timedOut: boolean } | null = null;
  /** Bumped by every sync and disconnect; an answer from an older generation is ignored. */
  #gen = 0;
  #stopped = false;
  readonly #connection: Connection;
  /** What the user picked (sent with every join); the pickers show it while it loads. */
  target = $state.raw<BoardTarget>({});
  /** What the shown snapshot was joined with (null before the first): a refused switch returns to it. */
  #shown: BoardTarget | null = null;
  #clockOffset = 0;
  /** This user's own changes (moves here, drawer commands over HTTP): not flashed as news. */
  readonly own = new OwnChangeLog();
  #ticker: ReturnType<typeof setInterval> | undefined;
  readonly #applied = new Set<(event: BoardEvent, previous: LeadCard | undefined) => void>();
  readonly #synced = new Set<(kind: "snapshot" | "resync") => void>();

  constructor(options: BoardStateOptions) {
    this.#options = options;
    // Socket.IO's own reconnection is off: the Connection retries with full jitter, forever.
    const socket =
      options.socket ??
      io({ transports: ["websocket"], withCredentials: true, autoConnect: false, forceNew: true, reconnection: false });
    this.#connection = new Connection(socket, {
      onConnect: () => this.#onConnect(),
      onDisconnect: () => this.#onDisconnect(),
      onUnauthenticated: () => this.#options.onUnauthenticated(),
    });
  }

  /** "connecting" (first connection), "online", "reconnecting" (countdown in `reconnectAt`), "offline" (still retrying). */
  get status(): ConnectionStatus {
    return this.#connection.status;
  }

  /** When the next connection attempt is due (ms since the epoch), or null. */
  get reconnectAt(): number | null {
    return this.#connection.reconnectAt;
  }

  /** Tries to reconnect at once instead of waiting for the countdown. */
  retryNow(): void {
    this.#connection.retryNow();
  }

  start(): void {
    this.#connection.on("board:event", (event) => this.#receive(event));
    this.#ticker = setInterval(() => (this.now = Date.now() + this.#clockOffset), 30_000);
    this.#connection.start();
  }

  stop(): void {
    this.#stopped = true;
    this.pages.pause();
    this.notices.stop();
    clearInterval(this.#ticker);
    this.#connection.stop();
  }

  /**
   * Moves a card optimistically: it lands at once (pending), and the server's answer
   * either confirms it or puts it back where it was. `afterId` is the card that ends up
   * directly above, `beforeId` the one directly below; neither means "append".
   */
  async move(leadId: string, toStageKey: string, afterId?: string, beforeId?: string): Promise<void> {
    const card = this.cards.get(leadId);
    if (!card || this.pending.has(leadId)) return;
    const column = this.columns.get(toStageKey) ?? [];
    const where = { afterId, beforeId };
    const mover = this.#options.role ? { kind: "user" as const, role: this.#options.role } : undefined;
    const plan = planMove(card, this.stages, column, toStageKey, where, new Date(this.now).toISOString(), mover);
    if (plan.kind === "refused") this.toast(plan.reason, "error", fillInAction(this.#options.onFillIn, leadId, plan.missing));
    if (plan.kind !== "move") return;
    this.cards.set(leadId, plan.optimistic);
    this.pending.set(leadId, { original: card, optimistic: plan.optimistic });
    if (!this.#connection.connected) return this.#moveFailed(leadId, "You are offline; the move was not sent");
    let res: Ack<LeadCard>;
    try {
      res = await this.#connection.ask<LeadCard>("lead:move", plan.payload, moveTimeoutMs);
    } catch {
      const reason = this.#connection.connected
        ? "The server did not confirm the move in time, so it was undone"
        : "The connection was lost before the server confirmed the move, so it was undone";
      return this.#moveFailed(leadId, reason);
    }
    if (res.ok) {
      this.pending.delete(leadId);
      this.own.add(res.data);
      // Not if the lead left this view meanwhile (its lead.left_view comes before this ack).
      if (settleServerCard(this.cards, res.data)) this.touched.set(leadId, this.seq);
      return;
    }
    const current = res.error.code === "CONFLICT" ? conflictCard(res.error.details) : undefined;
    const action =
      res.error.code === "ILLEGAL_TRANSITION" ? fillInAction(this.#options.onFillIn, leadId, missingOf(res.error.details)) : undefined;
    this.#moveFailed(leadId, res.error.message, current, action);
  }

  /** Joins another process's board and/or another view; the current board stays until it loads. */
  switchTo(target: BoardTarget): void {
    const next: BoardTarget = { ...this.target, ...target };
    if (sameTarget(next, this.target) && this.boardId !== null) return;
    this.target = next;
    // Offline, or a sync under way: the (re)connection or that sync's end joins the target.
    this.#sync();
  }

  /** Calls `fn` after each event is applied, in seq order, with its lead as it was before (if loaded). Returns an unsubscribe. */
  onApplied(fn: (event: BoardEvent, previous: LeadCard | undefined) => void): () => void {
    this.#applied.add(fn);
    return () => this.#applied.delete(fn);
  }

  /** Calls `fn` after each join ("snapshot": the board may be another one) or catch-up ("resync"). */
  onSynced(fn: (kind: "snapshot" | "resync") => void): () => void {
    this.#synced.add(fn);
    return () => this.#synced.delete(fn);
  }

  /** Listens to a broadcast of the server other than board events (e.g. presence). */
  onBroadcast<E extends keyof ServerToClientEvents>(event: E, fn: ServerToClientEvents[E]): () => void {
    return this.#connection.on(event, fn);
  }

  /** Sends a command on the board's socket and resolves with its acknowledgement (rejects on timeout or offline). */
  request<T>(event: keyof ClientToServerEvents, payload: unknown, timeoutMs = syncTimeoutMs): Promise<Ack<T>> {
    return this.#connection.ask<T>(event, payload, timeoutMs);
  }

  toast(text: string, kind: Toast["kind"] = "error", action?: ToastAction): void {
    this.notices.toast(text, kind, action);
  }

  /** Undo an optimistic move, unless the server's state has replaced it meanwhile. */
  #moveFailed(leadId: string, reason: string, serverCard?: LeadCard, action?: ToastAction): void {
    const p = this.pending.get(leadId);
    this.pending.delete(leadId);
    if (p && this.cards.get(leadId) === p.optimistic) this.cards.set(leadId, p.original);
    if (serverCard) settleServerCard(this.cards, serverCard);
    this.toast(reason, "error", action);
  }

  #onConnect(): void {
    // The resync names the view, so a new connection catches up without reloading the board;
    // a board or view picked while offline is joined instead.
    this.#sync();
  }

  #onDisconnect(): void {
    if (this.#stopped) return;
    this.#gen++;
    // Requests and retries belong to the connection that dropped; the next one starts afresh.
    this.#syncing = false;
    this.#retry = null;
    this.pages.pause();
  }

  /** Joins the target or catches up with what is shown, unless a sync is under way or waits for its backoff. */
  #sync(): void {
    if (this.#stopped || !this.#connection.connected || this.#syncing) return;
    if (this.#retry?.timedOut) return;
    if (this.#options.awaitTarget && this.target.processId === undefined) return;
    this.#retry = null;
    void (syncKind(this.#shown, this.target) === "join" ? this.#join() : this.#resync());
  }

  #receive(event: BoardEvent): void {
    if (this.#stopped) return;
    // While (re)joining, the board may be about to change: keep everything, filter after.
    // After a failed sync, the retry (after its backoff) catches up: a gap does not hasten it.
    if (this.#syncing || this.#retry !== null || this.boardId === null) {
      this.#buffer.push(event);
      return;
    }
    if (event.boardId !== this.boardId) return;
    const decision = seqDecision(this.seq, event.seq);
    if (decision === "stale") return;
    if (decision === "gap") {
      this.#buffer.push(event);
      void this.#resync();
      return;
    }
    this.#apply(event);
  }

  #apply(event: BoardEvent): void {
    const previous = this.cards.get(event.type === "lead.left_view" ? event.leadId : "lead" in event ? event.lead.id : "");
    this.pages.noteEvent(event);
    if (event.type === "stages.changed" || event.type === "lead.left_view") {
      if (event.type === "stages.changed") {
        this.stages = sortStages(event.stages);
        this.processName = event.processName;
      } else {
        applyEvent(this.cards, event);
        this.touched.set(event.leadId, event.seq);
      }
      this.seq = event.seq;
      this.lastUpdated = new Date();
      this.#notifyApplied(event, previous);
      return;
    }
    const lead = event.lead;
    const own =
      event.actor.id === this.#options.userId &&
      (this.pending.has(lead.id) || this.own.claims(lead));
    applyEvent(this.cards, event, this.pending);
    this.seq = event.seq;
    this.touched.set(lead.id, event.seq);
    this.lastUpdated = new Date();
    const highlight = own ? null : highlightText(event);
    if (highlight) this.notices.highlight(lead.id, highlight);
    // Sales roles hear of a lead that scoring made sales-ready, with a way to open it.
    const alert = salesReadyToast(event, this.#options.role, this.#options.onOpenLead);
    if (alert) this.toast(alert.text, "info", alert.action);
    this.#notifyApplied(event, previous);
  }

  #notifyApplied(event: BoardEvent, previous: LeadCard | undefined): void {
    for (const fn of this.#applied) fn(event, previous);
  }

  #notifySynced(kind: "snapshot" | "resync"): void {
    for (const fn of this.#synced) fn(kind);
  }

  async #join(): Promise<void> {
    const gen = this.#beginSync();
    const sent: BoardJoinInput = { ...this.target };
    let res: Ack<BoardSnapshot>;
    try {
      res = await this.#connection.ask<BoardSnapshot>("board:join", sent, syncTimeoutMs);
    } catch {
      return this.#syncFailed(gen, true);
    }
    if (gen !== this.#gen) return;
    // Another board or view was picked while this join was under way: it is news of neither.
    if (!sameTarget(sent, this.target)) return this.#syncAgain();
    if (!res.ok) {
      // The server is busy, the request was superseded or came too fast: retry later, do not give up the switch.
      if (retryLater(res.error.code)) return this.#syncFailed(gen, false);
      const shown = this.#shown;
      if (shown !== null && !sameTarget(shown, sent)) {
        // A refused switch (another process, a view this role may not see): stay where we were.
        this.target = shown;
        this.toast(res.error.message);
        return this.#syncAgain();
      }
      this.joinError = res.error.message;
      return this.#syncFailed(gen, false);
    }
    this.joinError = null;
    this.#shown = sent;
    this.#loadSnapshot(res.data);
    this.#endSync();
    this.#notifySynced("snapshot");
  }

  /**
   * Catches up from the last applied seq. The server puts the socket in the board's room
   * before it reads, so events committed meanwhile arrive as broadcasts (buffered here).
   */
  async #resync(): Promise<void> {
    const boardId = this.boardId;
    if (boardId === null) return this.#join();
    const gen = this.#beginSync();
    let res: Ack<ResyncResult>;
    try {
      const payload = { boardId, sinceSeq: this.seq, ...(this.view ? { view: this.view } : {}) };
      res = await this.#connection.ask<ResyncResult>("board:resync", payload, syncTimeoutMs);
    } catch {
      return this.#syncFailed(gen, true);
    }
    if (gen !== this.#gen) return;
    if (!res.ok) return retryLater(res.error.code) ? this.#syncFailed(gen, false) : this.#join();
    const snapshot = "snapshot" in res.data;
    if ("snapshot" in res.data) this.#loadSnapshot(res.data.snapshot);
    else this.#replay(res.data.events);
    this.#endSync();
    this.#notifySynced(snapshot ? "snapshot" : "resync");
  }

  /** Applies a resync's events in order; anything past a hole waits for the next pass. */
  #replay(events: BoardEvent[]): void {
    for (const event of [...events].sort((a, b) => a.seq - b.seq)) {
      const decision = seqDecision(this.seq, event.seq);
      if (decision === "apply") this.#apply(event);
      else if (decision === "gap") this.#buffer.push(event);
    }
  }

  #beginSync(): number {
    this.#syncing = true;
    this.pages.pause();
    return ++this.#gen;
  }

  /** The last sync answered without loading anything: nothing is left to answer, so go on at once. */
  #syncAgain(): void {
    this.#syncing = false;
    this.#sync();
  }

  /** Applies what arrived while syncing; a remaining gap starts the next resync. */
  #endSync(): void {
    this.#syncing = false;
    this.#connection.settled();
    // A board or view picked while this sync was under way: join it (the buffer waits for it).
    if (syncKind(this.#shown, this.target) === "join") return void this.#join();
    const queued = this.#buffer.sort((a, b) => a.seq - b.seq);
    this.#buffer = [];
    for (const event of queued) this.#receive(event);
    if (!this.#syncing) this.pages.resume();
  }

  /** `timedOut`: unanswered, so the server may still be working on it (and answer into the void). */
  #syncFailed(gen: number, timedOut: boolean): void {
    if (gen !== this.#gen) return;
    this.#syncing = false;
    const retry = { timedOut };
    this.#retry = retry;
    this.#connection.retryLater(() => {
      if (this.#retry !== retry) return;
      this.#retry = null;
      this.#sync();
    });
  }

  #loadSnapshot(snapshot: BoardSnapshot): void {
    // Drawers of the old board's leads have nothing to wait for; a wall display runs for days.
    if (isAnotherBoard(this.boardId, this.view, snapshot)) this.touched.clear();
    this.boardId = snapshot.boardId;
    this.processId = snapshot.processId;
    this.view = snapshot.view ?? null;
    this.processName = snapshot.processName;
    this.stages = sortStages(snapshot.stages);
    this.cards.clear();
    for (const card of snapshot.leads) this.cards.set(card.id, card);
    this.pages.reset(snapshot);
    this.seq = snapshot.seq;
    this.lastUpdated = new Date();
    this.own.clear();
    const serverTime = Date.parse(snapshot.serverTime);
    if (!Number.isNaN(serverTime)) this.#clockOffset = serverTime - Date.now();
    this.now = Date.now() + this.#clockOffset;
  }
}
