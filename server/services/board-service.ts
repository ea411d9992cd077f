import type { BoardEvent, BoardSnapshot, BoardStage, ResyncResult } from "../../shared/board.ts";
import { allowedViews, defaultView, leadInView, viewLabels, type BoardView } from "../../shared/domain/views.ts";
import { DomainError } from "../../shared/errors.ts";
import type { BoardJoinInput, BoardResyncInput } from "../../shared/schemas/board.ts";
import type { Db, Executor } from "../db/client.ts";
import * as boardsRepo from "../repositories/boards.ts";
import { listBoardCards } from "../repositories/leads.ts";
import { requirePermission, type Actor } from "./actor.ts";

/** Past this many missed events a client gets a fresh snapshot instead of a replay. */
export const maxReplayEvents = 500;

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
