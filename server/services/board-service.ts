import type { BoardSnapshot, ResyncResult } from "../../shared/board.ts";
import { DomainError } from "../../shared/errors.ts";
import type { BoardJoinInput, BoardResyncInput } from "../../shared/schemas/board.ts";
import type { Db, Executor } from "../db/client.ts";
import * as boardsRepo from "../repositories/boards.ts";
import { listBoardCards } from "../repositories/leads.ts";
import { requirePermission, type Actor } from "./actor.ts";

/** Past this many missed events a client gets a fresh snapshot instead of a replay. */
export const maxReplayEvents = 500;

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

  /** A consistent picture: the leads exactly as they were after event `seq`. */
  async snapshot(boardId: string, now: Date): Promise<BoardSnapshot> {
    return this.db.transaction(
      async (tx) => {
        const board = await boardsRepo.findBoard(tx, boardId);
        if (!board) throw new DomainError("NOT_FOUND", "No such board");
        return this.readSnapshot(tx, board, now);
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }

  private async readSnapshot(db: Executor, board: boardsRepo.BoardRow, now: Date): Promise<BoardSnapshot> {
    const [stages, leads] = await Promise.all([
      boardsRepo.listStages(db, board.processId),
      listBoardCards(db, board.processId),
    ]);
    return {
      boardId: board.id,
      processId: board.processId,
      processName: board.processName,
      seq: board.lastSeq,
      stages,
      leads,
      serverTime: now.toISOString(),
    };
  }

  /** The events a client missed since `sinceSeq`, or a snapshot when replay is not possible. */
  async resync(actor: Actor, input: BoardResyncInput, now: Date): Promise<ResyncResult> {
    requirePermission(actor, "board.view");
    const board = await boardsRepo.findBoard(this.db, input.boardId);
    if (!board) throw new DomainError("NOT_FOUND", "No such board");
    const missed = board.lastSeq - input.sinceSeq;
    if (missed === 0) return { events: [] };
    if (missed < 0 || missed > maxReplayEvents) return { snapshot: await this.snapshot(board.id, now) };
    const events = await boardsRepo.eventsSince(this.db, board.id, input.sinceSeq, missed, board.lastSeq);
    // A pruned log cannot replay contiguously: fall back to a snapshot.
    if (events.length !== missed || events[0]?.seq !== input.sinceSeq + 1) {
      return { snapshot: await this.snapshot(board.id, now) };
    }
    return { events };
  }
}
