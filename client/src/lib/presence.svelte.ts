/**
 * Presence on the live board: who else is here (avatars) and who holds which lead (the
 * soft-lock on a card). Built on BoardState's socket; the server forgets a connection's
 * presence when it drops, so every (re)join announces the current activity again.
 */
import type { BoardPresence, LeadHolder, PresenceActivity, PresenceEntry } from "../../../shared/presence.ts";
import type { BoardState } from "./board.svelte.ts";
import { activityOf, holdersByLead, orderViewers, sameActivity, type PresenceViewer } from "./presence-logic.ts";

/** The part of BoardState presence uses (a fake in tests). */
export type PresenceBoard = Pick<BoardState, "boardId" | "onBroadcast" | "onSynced" | "request">;

export interface PresenceOptions {
  /** The signed-in user: marked `self`, and never listed as holding a lead. */
  userId: string;
  /** Quick changes (a drag that starts and ends at once) are sent as one. */
  debounceMs?: number;
}

export class BoardPresenceState {
  /** Everyone on the board: others first, the signed-in user last with `self: true`. */
  readonly viewers: PresenceViewer[] = $derived.by(() => orderViewers(this.#entries, this.#userId));
  /** Everyone but the signed-in user. */
  readonly others: PresenceViewer[] = $derived(this.viewers.filter((v) => !v.self));

  #entries = $state.raw<PresenceEntry[]>([]);
  readonly #holders = $derived.by(() => holdersByLead(this.#entries, this.#userId));
  /** The board the entries describe. */
  #entriesBoard: string | null = null;

  readonly #board: PresenceBoard;
  readonly #userId: string;
  readonly #debounceMs: number;
  #open: string | null = null;
  #drag: string | null = null;
  /** What the server holds for this connection, and on which board; undefined: not known (send again). */
  #sent: { boardId: string; activity: PresenceActivity | null } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #unsubscribe: Array<() => void> = [];

  constructor(board: PresenceBoard, options: PresenceOptions) {
    this.#board = board;
    this.#userId = options.userId;
    this.#debounceMs = options.debounceMs ?? 120;
  }

  start(): this {
    this.#unsubscribe.push(
      this.#board.onBroadcast("board:presence", (presence) => this.#receive(presence)),
      this.#board.onSynced(() => {
        // A join or rejoin: possibly another board, and a server that has forgotten this connection.
        if (this.#entriesBoard !== this.#board.boardId) this.#clear();
        this.#sent = undefined;
        this.#sendNow();
      }),
    );
    return this;
  }

  stop(): void {
    clearTimeout(this.#timer);
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  /** The other people holding a lead (drawer open or dragging); empty when nobody does. */
  holdersOf(leadId: string): LeadHolder[] {
    return this.#holders.get(leadId) ?? [];
  }

  /** The lead whose drawer this tab shows, or null when it closes. */
  open(leadId: string | null): void {
    this.#open = leadId;
    this.#schedule();
  }

  /** The lead this tab is dragging, or null when the drag ends (the open drawer, if any, shows again). */
  drag(leadId: string | null): void {
    this.#drag = leadId;
    this.#schedule();
  }

  #receive(presence: BoardPresence): void {
    if (presence.boardId !== this.#board.boardId) return;
    this.#entriesBoard = presence.boardId;
    this.#entries = presence.viewers;
  }

  #clear(): void {
    this.#entriesBoard = null;
    this.#entries = [];
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#sendNow(), this.#debounceMs);
  }

  #sendNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const boardId = this.#board.boardId;
    if (!boardId) return;
    const activity = activityOf(this.#open, this.#drag);
    if (this.#sent && this.#sent.boardId === boardId && sameActivity(this.#sent.activity, activity)) return;
    const sent = { boardId, activity };
    this.#sent = sent;
    this.#board.request<BoardPresence>("presence:set", sent).then(
      (res) => {
        if (res.ok) this.#receive(res.data);
        else if (this.#sent === sent) this.#sent = undefined;
      },
      // Offline or no answer: the next sync announces the activity again.
      () => {
        if (this.#sent === sent) this.#sent = undefined;
      },
    );
  }
}
