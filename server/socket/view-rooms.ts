import type { BoardEvent, BoardStage } from "../../shared/board.ts";
import type { BoardView } from "../../shared/domain/views.ts";
import { boardRoom } from "../../shared/events.ts";
import type { Db } from "../db/client.ts";
import { findBoard, listStages } from "../repositories/boards.ts";
import { eventForViewer } from "../services/board-service.ts";
import type { BoardServer } from "./board-socket.ts";

/** The rooms a viewer of `view` joins on a board. "My leads" has one room per owner. */
export function viewRooms(boardId: string, view: BoardView, userId: string | null): string[] {
  const base = boardRoom(boardId);
  switch (view) {
    case "all":
      return [base];
    case "my_leads":
      return [`${base}:mine`, `${base}:owner:${userId ?? "nobody"}`];
    default:
      return [`${base}:view:${view}`];
  }
}

/**
 * Sends each committed event to every view of its board: the event itself where its
 * lead belongs, a `lead.left_view` elsewhere. Per board, sends stay in seq order even
 * when the board's stage rules must first be loaded.
 *
 * With `localOnly` (several nodes, each following the log itself) sends reach only this
 * node's sockets: through the Socket.IO adapter every node would get each event once from
 * its own follower and again from every other node.
 */
export class ViewFanout {
  private readonly stages = new Map<string, BoardStage[]>();
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly io: BoardServer,
    private readonly db: Db,
    private readonly onError: (err: unknown) => void,
    private readonly localOnly = false,
  ) {}

  private toRoom(room: string) {
    return this.localOnly ? this.io.local.to(room) : this.io.to(room);
  }

  /**
   * Whether a send to the room would reach anyone. This node's room map answers that: with
   * one node it holds every socket, and with several (a cluster adapter) sends are local-only.
   * A view nobody watches costs no filtering and no encoding then.
   */
  private watched(room: string): boolean {
    return (this.io.of("/").adapter.rooms.get(room)?.size ?? 0) > 0;
  }

  deliver(event: BoardEvent): void {
    const previous = this.chains.get(event.boardId) ?? Promise.resolve();
    const next = previous.then(() => this.send(event)).catch(this.onError);
    this.chains.set(event.boardId, next);
  }

  private async stagesOf(boardId: string): Promise<BoardStage[]> {
    const cached = this.stages.get(boardId);
    if (cached) return cached;
    const board = await findBoard(this.db, boardId);
    const stages = board ? await listStages(this.db, board.processId) : [];
    this.stages.set(boardId, stages);
    return stages;
  }

  private async send(event: BoardEvent): Promise<void> {
    if (event.type === "stages.changed") this.stages.set(event.boardId, event.stages);
    const stages = await this.stagesOf(event.boardId);
    const id = event.boardId;
    const all = boardRoom(id);
    if (this.watched(all)) this.toRoom(all).emit("board:event", event);
    for (const view of ["teleprospecting_queue", "sales_ready"] as const) {
      const room = viewRooms(id, view, null)[0]!;
      if (this.watched(room)) this.toRoom(room).emit("board:event", eventForViewer(event, stages, { view, userId: null }));
    }
    const mine = viewRooms(id, "my_leads", null)[0]!;
    if (!this.watched(mine)) return;
    const owner = "lead" in event && event.type !== "lead.removed" ? event.lead.ownerId : null;
    if (owner) {
      const ownerRoom = viewRooms(id, "my_leads", owner)[1]!;
      if (this.watched(ownerRoom)) this.toRoom(ownerRoom).emit("board:event", event);
      this.toRoom(mine).except(ownerRoom).emit("board:event", eventForViewer(event, stages, { view: "my_leads", userId: null }));
    } else {
      this.toRoom(mine).emit("board:event", eventForViewer(event, stages, { view: "my_leads", userId: null }));
    }
  }
}
