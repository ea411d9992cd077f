import type { BoardActivity, BoardEvent, BoardEventType, BoardSnapshot, BoardStage, ResyncResult } from "../../shared/board.ts";
import { allowedViews, defaultView, isTeleprospectingStage, leadInView, viewLabels, type BoardView } from "../../shared/domain/views.ts";
import { DomainError } from "../../shared/errors.ts";
import type { BoardActivityInput, BoardJoinInput, BoardResyncInput } from "../../shared/schemas/board.ts";
import type { Db, Executor } from "../db/client.ts";
import * as boardsRepo from "../repositories/boards.ts";
import { listBoardCards } from "../repositories/leads.ts";
import { requirePermission, type Actor } from "./actor.ts";

/** Past this many missed events a client gets a fresh snapshot instead of a replay. */
export const maxReplayEvents = 500;

/**
 * What the activity feed lists: moves, new leads, score changes (threshold crossings among
 * them) and leads leaving the board. `lead.updated` is left out: it is written for every
 * card refresh (flags, stage fields, assignments, and an edit of a contact or account for
 * each of its leads) and does not say what changed, so it would drown the feed in "updated".
 */
export const activityEventTypes = ["lead.created", "lead.moved", "lead.scored", "lead.removed"] as const satisfies readonly BoardEventType[];

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

export class BoardService {
  constructor(private readonly db: Db) {}

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

  /** A consistent picture: the leads of the view exactly as they were after event `seq`. */
  async snapshot(boardId: string, now: Date, viewer: Viewer = { view: "all", userId: null }): Promise<BoardSnapshot> {
    return this.db.transaction(
      async (tx) => {
        const board = await boardsRepo.findBoard(tx, boardId);
        if (!board) throw new DomainError("NOT_FOUND", "No such board");
        return this.readSnapshot(tx, board, now, viewer);
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }

  private async readSnapshot(db: Executor, board: boardsRepo.BoardRow, now: Date, viewer: Viewer): Promise<BoardSnapshot> {
    const [stages, leads] = await Promise.all([
      boardsRepo.listStages(db, board.processId),
      listBoardCards(db, board.processId),
    ]);
    return {
      boardId: board.id,
      processId: board.processId,
      processName: board.processName,
      seq: board.lastSeq,
      view: viewer.view,
      stages,
      leads: leads.filter((lead) => leadInView(viewer.view, lead, stages, viewer.userId)),
      serverTime: now.toISOString(),
    };
  }

  /**
   * A page of the board's recent activity for a socket that joined it with `joinedView`,
   * newest first, with the board's seq at the time of reading. Events the viewer would get
   * as `lead.left_view` are left out, exactly as `resync` filters them.
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
        const lead = activityLeadFilter(viewer, stages);
        if (lead === "nothing") return { events: [], seq: board.lastSeq };
        // Other views never list a removal: their viewers get it as lead.left_view.
        const types = viewer.view === "all" ? activityEventTypes : activityEventTypes.filter((t) => t !== "lead.removed");
        const events: BoardEvent[] = [];
        let beforeSeq = input.beforeSeq;
        // The SQL filter mirrors leadInView; the pure rule stays the authority, so read on while it drops any.
        while (events.length < limit) {
          const batch = await boardsRepo.eventsBefore(tx, board.id, { beforeSeq, types, limit, lead });
          for (const event of batch) {
            if (events.length < limit && eventForViewer(event, stages, viewer).type !== "lead.left_view") events.push(event);
          }
          if (batch.length < limit) break;
          beforeSeq = batch[batch.length - 1]!.seq;
        }
        return { events, seq: board.lastSeq };
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }

  /** The events a client missed since `sinceSeq`, or a snapshot when replay is not possible. */
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

/** The SQL side of `leadInView` for the feed: which leads' events a view may list ("nothing": none). */
function activityLeadFilter(viewer: Viewer, stages: BoardStage[]): boardsRepo.EventLeadFilter | undefined | "nothing" {
  switch (viewer.view) {
    case "all":
      return undefined;
    case "sales_ready":
      return { salesReady: true };
    case "my_leads":
      return viewer.userId ? { ownerId: viewer.userId } : "nothing";
    case "teleprospecting_queue":
      return { stageKeys: stages.filter(isTeleprospectingStage).map((s) => s.key) };
  }
}
