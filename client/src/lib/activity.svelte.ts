/**
 * The board's activity feed: what just happened (moves, new leads, threshold crossings,
 * removals), newest first. The history comes from `board:activity` after each join; live
 * events come from the board as it applies them. Items are unique by seq.
 */
import type { BoardActivity, BoardEvent, BoardStage } from "../../../shared/board.ts";
import type { Ack } from "../../../shared/errors.ts";
import type { BoardActivityInput } from "../../../shared/schemas/board.ts";
import { errorMessage } from "./api.ts";

export type ActivityKind = "created" | "moved" | "threshold" | "sales_ready" | "removed";

export interface ActivityItem {
  seq: number;
  leadId: string;
  kind: ActivityKind;
  /** "Mia moved Acme renewal to Sales acceptance". */
  text: string;
  /** Who did it, as the text names them ("You" for this user). */
  actor: string;
  topic: string;
  at: string;
}

/** What the feed needs of the board (BoardState provides it; tests pass a stand-in). */
export interface ActivityBoard {
  readonly boardId: string | null;
  readonly stages: readonly BoardStage[];
  onApplied(fn: (event: BoardEvent) => void): () => void;
  onSynced(fn: (kind: "snapshot" | "resync") => void): () => void;
  request<T>(event: "board:activity", payload: BoardActivityInput): Promise<Ack<T>>;
}

/** How many items the live feed keeps; older ones can be paged back in. */
export const activityCap = 100;
/** How many events one page asks for. */
export const activityPage = 30;

type LeadEvent = Extract<BoardEvent, { lead: unknown }>;

/**
 * Whether an event belongs in the feed. Edits (`lead.updated`) and plain score changes are
 * left out: scoring recomputes leads in bursts after every interaction, and those would
 * push the moves people care about out of view. A score change stays when it crossed a
 * threshold, marked the lead sales-ready or moved it. `lead.left_view` and
 * `stages.changed` name no lead to link to.
 */
export function isActivity(event: BoardEvent): event is LeadEvent {
  switch (event.type) {
    case "lead.created":
    case "lead.moved":
    case "lead.removed":
      return true;
    case "lead.scored":
      return event.salesReadyMarked || event.moved !== null || event.changes.some((c) => c.crossedThreshold);
    default:
      return false;
  }
}

/** A stage's name by key, or the key made readable when the stage is gone. */
export function stageName(stages: readonly Pick<BoardStage, "key" | "name">[], key: string): string {
  return stages.find((s) => s.key === key)?.name ?? key.replaceAll("_", " ");
}

/** The feed's line for an event (null when it is not activity). `userId` is named "You". */
export function describeActivity(event: BoardEvent, stages: readonly Pick<BoardStage, "key" | "name">[], userId: string | null): ActivityItem | null {
  if (!isActivity(event)) return null;
  const actor = userId !== null && event.actor.id === userId ? "You" : event.actor.name;
  const topic = event.lead.topic;
  const base = { seq: event.seq, leadId: event.lead.id, actor, topic, at: event.at };
  switch (event.type) {
    case "lead.created":
      return { ...base, kind: "created", text: `${actor} added ${topic} in ${stageName(stages, event.lead.stage)}` };
    case "lead.moved":
      return { ...base, kind: "moved", text: `${actor} moved ${topic} to ${stageName(stages, event.toStage)}` };
    case "lead.removed": {
      const text =
        event.reason === "process_changed" ? `${actor} moved ${topic} to another process` : `${actor} ${event.reason} ${topic}`;
      return { ...base, kind: "removed", text };
    }
    case "lead.scored": {
      const crossed = event.changes.find((c) => c.crossedThreshold && c.to !== null);
      const reached = crossed ? `${crossed.modelName} ${crossed.to} ≥ ${crossed.threshold}` : null;
      if (event.moved) {
        const why = reached ? ` (${reached})` : "";
        return { ...base, kind: "moved", text: `${actor} moved ${topic} to ${stageName(stages, event.moved.toStage)}${why}` };
      }
      if (event.salesReadyMarked) return { ...base, kind: "sales_ready", text: `${topic} became sales-ready${reached ? ` (${reached})` : ""}` };
      return { ...base, kind: "threshold", text: `${topic} reached the threshold${reached ? `: ${reached}` : ""}` };
    }
    default:
      return null;
  }
}

/** Items of both lists, unique by seq (the first list wins), newest first. */
export function mergeItems(a: readonly ActivityItem[], b: readonly ActivityItem[]): ActivityItem[] {
  const bySeq = new Map<number, ActivityItem>();
  for (const item of [...a, ...b]) if (!bySeq.has(item.seq)) bySeq.set(item.seq, item);
  return [...bySeq.values()].sort((x, y) => y.seq - x.seq);
}

/** At most this many pages are read for one load while they hold nothing for the feed. */
const maxPagesPerLoad = 4;

interface Collected {
  items: ActivityItem[];
  more: boolean;
  cursor: number | null;
  /** The board's seq when the first page was read. */
  seq: number;
}

export class ActivityFeed {
  /** Whether the panel is shown. */
  open = $state(false);
  items = $state.raw<ActivityItem[]>([]);
  loading = $state(false);
  /** Older events may exist beyond the last one shown. */
  hasOlder = $state(false);
  error = $state<string | null>(null);
  /** New items that arrived while the panel was closed, for the toggle's badge. */
  unseen = $state(0);

  readonly #board: ActivityBoard;
  readonly #userId: string | null;
  #boardId: string | null = null;
  /** The oldest seq read so far: "Load older" continues before it. */
  #cursor: number | null = null;
  /** Bumped by every (re)load; an answer from an older one is ignored. */
  #gen = 0;

  constructor(board: ActivityBoard, userId: string | null) {
    this.#board = board;
    this.#userId = userId;
  }

  /** Subscribes to the board; returns the unsubscribe. */
  start(): () => void {
    const offApplied = this.#board.onApplied((event) => this.#live(event));
    const offSynced = this.#board.onSynced((kind) => {
      if (kind === "snapshot") void this.#reload();
    });
    return () => {
      offApplied();
      offSynced();
      this.#gen++;
    };
  }

  toggle(): void {
    this.open = !this.open;
    if (this.open) this.unseen = 0;
  }

  /** Pages back from the oldest event read so far. */
  async loadOlder(): Promise<void> {
    const boardId = this.#board.boardId;
    const before = this.#cursor ?? this.items.at(-1)?.seq;
    if (boardId === null || this.loading || before === undefined) return;
    const found = await this.#collect(boardId, before, this.#gen);
    if (!found) return;
    this.items = mergeItems(this.items, found.items);
    this.hasOlder = found.more;
    this.#cursor = found.cursor ?? this.#cursor;
  }

  #describe(events: readonly BoardEvent[]): ActivityItem[] {
    const items: ActivityItem[] = [];
    for (const event of events) {
      const item = describeActivity(event, this.#board.stages, this.#userId);
      if (item) items.push(item);
    }
    return items;
  }

  #live(event: BoardEvent): void {
    if (event.boardId !== this.#boardId) return;
    const item = describeActivity(event, this.#board.stages, this.#userId);
    if (!item || this.items.some((i) => i.seq === item.seq)) return;
    const merged = mergeItems([item], this.items);
    if (merged.length > activityCap) {
      merged.length = activityCap;
      // What was cut can be paged back in.
      this.hasOlder = true;
      this.#cursor = merged.at(-1)?.seq ?? null;
    }
    this.items = merged;
    // The badge counts what others did: one's own moves are no news.
    if (!this.open && (this.#userId === null || event.actor.id !== this.#userId)) this.unseen++;
  }

  /**
   * After a join: the latest events replace what was shown (a snapshot may follow a long gap,
   * or show another board or view), keeping live items that came after the page was read.
   */
  async #reload(): Promise<void> {
    const boardId = this.#board.boardId;
    if (boardId === null) return;
    if (boardId !== this.#boardId) {
      this.#boardId = boardId;
      this.items = [];
      this.hasOlder = false;
      this.unseen = 0;
      this.#cursor = null;
    }
    const found = await this.#collect(boardId, undefined, ++this.#gen);
    if (!found) return;
    const newer = this.items.filter((i) => i.seq > found.seq);
    this.items = mergeItems(newer, found.items).slice(0, activityCap);
    this.hasOlder = found.more;
    this.#cursor = found.cursor;
  }

  /**
   * Reads pages back from `beforeSeq` (the newest when absent) until one holds something
   * for the feed: a page may be all plain score changes, which the feed leaves out.
   */
  async #collect(boardId: string, beforeSeq: number | undefined, gen: number): Promise<Collected | null> {
    let before = beforeSeq;
    let seq: number | null = null;
    const items: ActivityItem[] = [];
    for (let pages = 0; pages < maxPagesPerLoad; pages++) {
      const page = await this.#fetch({ boardId, limit: activityPage, ...(before === undefined ? {} : { beforeSeq: before }) }, gen);
      if (!page) return null;
      seq ??= page.seq;
      items.push(...this.#describe(page.events));
      // The server bounds each read and says where to continue (`nextBeforeSeq`); a short or
      // even empty page is not the end while it names a next cursor.
      const oldest = Math.min(...page.events.map((e) => e.seq));
      const next = page.nextBeforeSeq ?? (page.events.length >= activityPage && oldest > 1 ? oldest : undefined);
      const more = next !== undefined;
      if (!more || items.length > 0 || pages === maxPagesPerLoad - 1) {
        return { items, more, cursor: next ?? (Number.isFinite(oldest) ? oldest : (before ?? null)), seq };
      }
      before = next;
    }
    return null;
  }

  async #fetch(input: BoardActivityInput, gen: number): Promise<BoardActivity | null> {
    this.loading = true;
    this.error = null;
    try {
      const res = await this.#board.request<BoardActivity>("board:activity", input);
      if (gen !== this.#gen || input.boardId !== this.#board.boardId) return null;
      if (!res.ok) {
        this.error = res.error.message;
        return null;
      }
      return res.data;
    } catch (err) {
      if (gen === this.#gen) this.error = `The activity could not be loaded (${errorMessage(err)})`;
      return null;
    } finally {
      if (gen === this.#gen) this.loading = false;
    }
  }
}
