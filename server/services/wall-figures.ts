import { allowedViews } from "../../shared/domain/views.ts";
import { DomainError } from "../../shared/errors.ts";
import type { StageConversion, WallFigures, WallFiguresInput } from "../../shared/wall.ts";
import type { Db } from "../db/client.ts";
import { findBoard, listStages } from "../repositories/boards.ts";
import { countNewLeads, countSalesReadyCrossings, countStageEntries } from "../repositories/wall-figures.ts";
import { requirePermission, type Actor } from "./actor.ts";

/** How far back a wall may ask: a week's start is at most 7 days ago, and a day of slack for time zones. */
const maxLookBackMs = 8 * 24 * 3_600_000;
/** A TV's clock may run a little ahead of the server's; a start further ahead than this is a mistake. */
const maxClockSkewMs = 5 * 60_000;
/** Distinct (board, day, week) answers kept: a few per board, as walls share their room's time zone. */
const maxCached = 256;

interface Cached {
  /** The board's seq the figures were read at: unchanged seq, unchanged figures. */
  seq: number;
  figures: Promise<WallFigures>;
}

export interface WallFiguresOptions {
  /** Called for a display's request: it is alive (lastSeenAt). */
  displaySeen?: (tokenId: string, now: Date) => Promise<void>;
}

/**
 * The headline figures of a board for walls: new leads today, leads that became sales-ready
 * today, and this week's conversion between consecutive stages. They are board-wide
 * (whatever view the asker watches) and hold no lead, only counts.
 *
 * Every wall asks about once a minute. Every change that moves these counts appends a
 * board event in its transaction, so an answer is reused for as long as the board's seq
 * has not moved: walls of one room (same day and week start) share one query per change.
 */
export class WallFiguresService {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly db: Db,
    private readonly options: WallFiguresOptions = {},
  ) {}

  async figures(actor: Actor, input: WallFiguresInput, now: Date): Promise<WallFigures> {
    requirePermission(actor, "board.view");
    requireBoardWideSight(actor, input.boardId);
    const dayStart = checkedStart(input.dayStart, "dayStart", now);
    const weekStart = checkedStart(input.weekStart, "weekStart", now);
    if (actor.kind === "display" && actor.display) await this.options.displaySeen?.(actor.display.tokenId, now);
    const board = await findBoard(this.db, input.boardId);
    if (!board) throw new DomainError("NOT_FOUND", "No such board");

    const key = `${board.id}|${dayStart.toISOString()}|${weekStart.toISOString()}`;
    const cached = this.cache.get(key);
    if (cached && cached.seq === board.lastSeq) return cached.figures;
    const entry: Cached = { seq: board.lastSeq, figures: this.read(board.id, dayStart, weekStart, now, (seq) => (entry.seq = seq)) };
    this.cache.delete(key);
    this.cache.set(key, entry);
    if (this.cache.size > maxCached) this.cache.delete(this.cache.keys().next().value!);
    // A failed read is not remembered.
    entry.figures.catch(() => {
      if (this.cache.get(key) === entry) this.cache.delete(key);
    });
    return entry.figures;
  }

  /** One consistent read; `readAt` learns the seq the counts belong to. */
  private read(boardId: string, dayStart: Date, weekStart: Date, now: Date, readAt: (seq: number) => void): Promise<WallFigures> {
    return this.db.transaction(
      async (tx) => {
        const board = await findBoard(tx, boardId);
        if (!board) throw new DomainError("NOT_FOUND", "No such board");
        // One after another: a transaction is one connection.
        const stages = await listStages(tx, board.processId);
        const newToday = await countNewLeads(tx, board.processId, dayStart);
        const salesReadyToday = await countSalesReadyCrossings(tx, board.processId, dayStart);
        const entries = await countStageEntries(tx, board.processId, weekStart);
        readAt(board.lastSeq);
        const byPosition = new Map(entries.map((e) => [e.position, e]));
        const conversions: StageConversion[] = stages.slice(1).map((to, i) => {
          const from = stages[i]!;
          const counts = byPosition.get(from.position);
          const entered = counts?.entered ?? 0;
          const advanced = counts?.advanced ?? 0;
          return { fromStage: from.key, toStage: to.key, entered, advanced, rate: entered > 0 ? advanced / entered : null };
        });
        return { boardId: board.id, newToday, salesReadyToday, conversions, at: now.toISOString() };
      },
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }
}

/**
 * Figures count every lead of the board. Salespeople see only sales-ready leads and their
 * own, so board-wide totals (how many leads came in, how many stall in teleprospecting)
 * are not theirs to read: only roles that may watch the whole board get them. A wall
 * display gets them for the boards its token names: the admin who made it chose to put
 * the board's numbers in the room.
 */
function requireBoardWideSight(actor: Actor, boardId: string): void {
  if (actor.kind === "display") {
    if (!actor.display?.boards[boardId]) throw new DomainError("FORBIDDEN", "This wall display may only show the boards its token names");
    return;
  }
  if (!allowedViews(actor.role).includes("all")) {
    throw new DomainError("FORBIDDEN", `Your role (${actor.role}) may not see board-wide figures`);
  }
}

function checkedStart(value: string, field: "dayStart" | "weekStart", now: Date): Date {
  const at = new Date(value);
  const problem =
    at.getTime() > now.getTime() + maxClockSkewMs
      ? "must not be in the future"
      : at.getTime() < now.getTime() - maxLookBackMs
        ? "must be at most 8 days ago"
        : null;
  if (problem) throw new DomainError("INVALID_INPUT", `${field} ${problem}`, [{ field, message: problem }]);
  return at;
}
