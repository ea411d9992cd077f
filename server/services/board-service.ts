import type {
  BoardActivity,
  BoardColumnInfo,
  BoardEvent,
  BoardPage,
  BoardSnapshot,
  BoardStage,
  LeadCard,
  ResyncResult,
} from "../../shared/board.ts";
import { allowedViews, defaultView, isTeleprospectingStage, leadInView, viewLabels, type BoardView } from "../../shared/domain/views.ts";
import { DomainError } from "../../shared/errors.ts";
import {
  defaultFirstPageSize,
  defaultPageLimit,
  type BoardActivityInput,
  type BoardJoinInput,
  type BoardPageInput,
  type BoardResyncInput,
} from "../../shared/schemas/board.ts";
import { activityEventTypes as schemaActivityTypes } from "../../drizzle/schema.ts";
import type { Db, Executor } from "../db/client.ts";
import * as boardsRepo from "../repositories/boards.ts";
import { countOpenByStage, listColumnPage, type BoardLeadFilter } from "../repositories/leads.ts";
import { requirePermission, type Actor } from "./actor.ts";

/** Past this many missed events a client gets a fresh snapshot instead of a replay. */
export const maxReplayEvents = 500;

/**
 * What the activity feed lists: moves, new leads, score changes (threshold crossings among
 * them) and leads leaving the board. `lead.updated` is left out: it is written for every
 * card refresh (flags, stage fields, assignments, and an edit of a contact or account for
 * each of its leads) and does not say what changed, so it would drown the feed in "updated".
 * The list lives with the partial indexes that cover it (drizzle/schema/work.ts).
 */
export const activityEventTypes = schemaActivityTypes;

/**
 * How many feed events one activity request reads at most before answering with what it
 * found and where it stopped: a view that matches few events (sales-ready, a stage set)
 * must not read the board's whole log backwards in one request.
 */
export const defaultActivityScanLimit = 2000;

/** Extra reads when the pure view rule drops events the SQL filter let through (it mirrors it, so rarely). */
const maxActivityReads = 4;

export const defaultActivityLimit = 30;

export interface Viewer {
  view: BoardView;
  userId: string | null;
}

/**
 * What one viewer receives for an event: the event itself when its lead is in their
 * view, else a `lead.left_view` that keeps the seq contiguous and reveals only the id.
 */
export function eventForViewer(event: BoardEvent, stages: BoardStage[], viewer: Viewer): BoardEvent {
  if (viewer.view === "all" || !("lead" in event)) return event;
  if (event.type !== "lead.removed" && leadInView(viewer.view, event.lead, stages, viewer.userId)) return event;
  return { boardId: event.boardId, seq: event.seq, at: event.at, actor: event.actor, type: "lead.left_view", leadId: event.lead.id };
}

export interface BoardServiceOptions {
  /** Feed events one activity request reads at most; default `defaultActivityScanLimit`. */
  activityScanLimit?: number;
}

export class BoardService {
  private readonly activityScanLimit: number;

  constructor(
    private readonly db: Db,
    options: BoardServiceOptions = {},
  ) {
    this.activityScanLimit = options.activityScanLimit ?? defaultActivityScanLimit;
  }

  async resolveBoard(actor: Actor, input: BoardJoinInput): Promise<boardsRepo.BoardRow> {
    requirePermission(actor, "board.view");
    const board = input.processId
      ? await boardsRepo.findBoardByProcess(this.db, input.processId)
      : await boardsRepo.findDefaultBoard(this.db);
    if (!board) throw new DomainError("NOT_FOUND", "No board for that process");
    return board;
  }

  /** The view a viewer gets: the one asked for if their role may see it, else their default. */
  resolveView(actor: Actor, requested: BoardView | undefined): BoardView {
    const view = requested ?? defaultView(actor.role);
    if (!allowedViews(actor.role).includes(view)) {
      throw new DomainError("FORBIDDEN", `Your role (${actor.role}) may not see the "${viewLabels[view]}" view`);
    }
    return view;
  }

  /**
   * A consistent picture as it was after event `seq`: every column's count in the view and
   * its first `pageSize` cards; `page` continues a column.
   */
  async snapshot(
    boardId: string,
    now: Date,
    viewer: Viewer = { view: "all", userId: null },
    pageSize: number = defaultFirstPageSize,
  ): Promise<BoardSnapshot> {
    return this.db.transaction(
      async (tx) => {
        const board = await boardsRepo.findBoard(tx, boardId);
        if (!board) throw new DomainError("NOT_FOUND", "No such board");
        return this.readSnapshot(tx, board, now, viewer, pageSize);
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }

  private async readSnapshot(
    db: Executor,
    board: boardsRepo.BoardRow,
    now: Date,
    viewer: Viewer,
    pageSize: number,
  ): Promise<BoardSnapshot> {
    const stages = await boardsRepo.listStages(db, board.processId);
    const filter = leadFilterOf(viewScope(viewer, stages));
    const counts = filter === "nothing" ? new Map<string, number>() : await countOpenByStage(db, board.processId, filter);
    const columns: Record<string, BoardColumnInfo> = {};
    const leads: LeadCard[] = [];
    for (const stage of stages) {
      const total = counts.get(stage.id) ?? 0;
      // Same transaction as the counts: the first page and the total agree.
      if (total > 0 && filter !== "nothing") {
        leads.push(...(await listColumnPage(db, { processId: board.processId, stageId: stage.id }, filter, undefined, pageSize)));
      }
      columns[stage.key] = { total, complete: total <= pageSize };
    }
    return {
      boardId: board.id,
      processId: board.processId,
      processName: board.processName,
      seq: board.lastSeq,
      view: viewer.view,
      stages,
      columns,
      leads,
      serverTime: now.toISOString(),
    };
  }

  /**
   * The next cards of one column of a board the socket joined with `joinedView`, after the
   * cursor, filtered for that view exactly as a snapshot is, with the board's seq they
   * were read at (one transaction).
   */
  async page(actor: Actor, input: BoardPageInput, joinedView: BoardView | undefined): Promise<BoardPage> {
    requirePermission(actor, "board.view");
    if (!joinedView) throw new DomainError("FORBIDDEN", "Join this board before paging through it");
    const viewer = { view: this.resolveView(actor, joinedView), userId: actor.id };
    const limit = input.limit ?? defaultPageLimit;
    return this.db.transaction(
      async (tx) => {
        const board = await boardsRepo.findBoard(tx, input.boardId);
        if (!board) throw new DomainError("NOT_FOUND", "No such board");
        const stages = await boardsRepo.listStages(tx, board.processId);
        const stage = stages.find((s) => s.key === input.stage || s.id === input.stage);
        if (!stage) throw new DomainError("NOT_FOUND", `This board has no stage "${input.stage}"`);
        const filter = leadFilterOf(viewScope(viewer, stages));
        if (filter === "nothing" || (filter.stageIds && !filter.stageIds.includes(stage.id))) {
          return { seq: board.lastSeq, cards: [], complete: true };
        }
        // One more than asked: whether anything follows, without a count.
        const cards = await listColumnPage(tx, { processId: board.processId, stageId: stage.id }, filter, input.after, limit + 1);
        return { seq: board.lastSeq, cards: cards.slice(0, limit), complete: cards.length <= limit };
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }

  /**
   * A page of the board's recent activity for a socket that joined it with `joinedView`,
   * newest first, with the board's seq at the time of reading. Events the viewer would get
   * as `lead.left_view` are left out, exactly as `resync` filters them. Reads a bounded part
   * of the log: a page may come back short with `nextBeforeSeq` saying where to go on.
   */
  async activity(actor: Actor, input: BoardActivityInput, joinedView: BoardView | undefined): Promise<BoardActivity> {
    requirePermission(actor, "board.view");
    if (!joinedView) throw new DomainError("FORBIDDEN", "Join this board before asking for its activity");
    const viewer = { view: this.resolveView(actor, joinedView), userId: actor.id };
    const limit = input.limit ?? defaultActivityLimit;
    return this.db.transaction(
      async (tx) => {
        const board = await boardsRepo.findBoard(tx, input.boardId);
        if (!board) throw new DomainError("NOT_FOUND", "No such board");
        const stages = await boardsRepo.listStages(tx, board.processId);
        const lead = eventFilterOf(viewScope(viewer, stages));
        if (lead === "nothing") return { events: [], seq: board.lastSeq };
        // Other views never list a removal: their viewers get it as lead.left_view.
        const types = viewer.view === "all" ? activityEventTypes : activityEventTypes.filter((t) => t !== "lead.removed");
        const events: BoardEvent[] = [];
        let beforeSeq = input.beforeSeq;
        let next: number | null = null;
        // The SQL filter mirrors leadInView; the pure rule stays the authority, so read on while it drops any.
        for (let read = 1; ; read++) {
          const found = await boardsRepo.activityBefore(tx, board.id, { beforeSeq, types, limit, lead, scanLimit: this.activityScanLimit });
          for (const event of found.events) {
            if (events.length < limit && eventForViewer(event, stages, viewer).type !== "lead.left_view") events.push(event);
          }
          if (events.length >= limit) {
            next = events[events.length - 1]!.seq;
            break;
          }
          if (found.stoppedAt !== null) {
            next = found.stoppedAt;
            break;
          }
          if (found.events.length < limit) break;
          beforeSeq = found.events[found.events.length - 1]!.seq;
          if (read === maxActivityReads) {
            next = beforeSeq;
            break;
          }
        }
        // Seqs start at 1: nothing is older than the first event.
        return { events, seq: board.lastSeq, ...(next === null || next <= 1 ? {} : { nextBeforeSeq: next }) };
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }

  /** The events a client missed since `sinceSeq`, or a snapshot (first pages) when replay is not possible. */
  async resync(actor: Actor, input: BoardResyncInput, now: Date, view: BoardView = defaultView(actor.role)): Promise<ResyncResult> {
    requirePermission(actor, "board.view");
    const board = await boardsRepo.findBoard(this.db, input.boardId);
    if (!board) throw new DomainError("NOT_FOUND", "No such board");
    const viewer = { view: this.resolveView(actor, view), userId: actor.id };
    const missed = board.lastSeq - input.sinceSeq;
    if (missed === 0) return { events: [] };
    if (missed < 0 || missed > maxReplayEvents) return { snapshot: await this.snapshot(board.id, now, viewer) };
    const events = await boardsRepo.eventsSince(this.db, board.id, input.sinceSeq, missed, board.lastSeq);
    // A pruned log cannot replay contiguously: fall back to a snapshot.
    if (events.length !== missed || events[0]?.seq !== input.sinceSeq + 1) {
      return { snapshot: await this.snapshot(board.id, now, viewer) };
    }
    const stages = await boardsRepo.listStages(this.db, board.processId);
    return { events: events.map((e) => eventForViewer(e, stages, viewer)) };
  }
}

/** The SQL side of `leadInView`: which leads a view shows ("nothing": none, undefined: all). */
interface ViewScope {
  salesReady?: boolean;
  ownerId?: string;
  stages?: BoardStage[];
}

function viewScope(viewer: Viewer, stages: BoardStage[]): ViewScope | undefined | "nothing" {
  switch (viewer.view) {
    case "all":
      return undefined;
    case "sales_ready":
      return { salesReady: true };
    case "my_leads":
      return viewer.userId ? { ownerId: viewer.userId } : "nothing";
    case "teleprospecting_queue":
      return { stages: stages.filter(isTeleprospectingStage) };
  }
}

/** The scope as conditions on the lead an event carries (the feed). */
function eventFilterOf(scope: ViewScope | undefined | "nothing"): boardsRepo.EventLeadFilter | undefined | "nothing" {
  if (scope === undefined || scope === "nothing") return scope;
  const { stages, ...rest } = scope;
  return stages ? { ...rest, stageKeys: stages.map((s) => s.key) } : rest;
}

/** The scope as conditions on the leads table (snapshots and pages). */
function leadFilterOf(scope: ViewScope | undefined | "nothing"): BoardLeadFilter | "nothing" {
  if (scope === undefined) return {};
  if (scope === "nothing") return scope;
  const { stages, ...rest } = scope;
  return stages ? { ...rest, stageIds: stages.map((s) => s.id) } : rest;
}
