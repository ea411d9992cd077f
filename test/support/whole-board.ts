/**
 * Everything a view of a board shows, read through the service as a client would: the
 * snapshot's first pages, then every column page by page. For a board at rest (nothing is
 * written meanwhile): every page must have been read at the snapshot's seq.
 */
import { sortCards } from "../../client/src/lib/board-logic.ts";
import type { BoardSnapshot, LeadCard, PageCursor } from "../../shared/board.ts";
import type { BoardView } from "../../shared/domain/views.ts";
import type { Actor } from "../../server/services/actor.ts";
import type { BoardService } from "../../server/services/board-service.ts";

export interface WholeBoard {
  snapshot: BoardSnapshot;
  /** Every lead of the view, column by column in column order. */
  leads: LeadCard[];
}

export async function readWholeBoard(
  boards: BoardService,
  actor: Actor,
  boardId: string,
  view: BoardView = "all",
  limit = 500,
): Promise<WholeBoard> {
  const snapshot = await boards.snapshot(boardId, new Date(), { view, userId: actor.id });
  const leads: LeadCard[] = [];
  for (const stage of snapshot.stages) {
    const column = sortCards(snapshot.leads.filter((l) => l.stage === stage.key));
    let complete = snapshot.columns[stage.key]?.complete ?? true;
    let after: PageCursor | undefined = column.at(-1);
    while (!complete) {
      const page = await boards.page(actor, { boardId, stage: stage.key, limit, ...(after ? { after: { rank: after.rank, id: after.id } } : {}) }, view);
      if (page.seq !== snapshot.seq) throw new Error(`the board changed while it was read (seq ${snapshot.seq} → ${page.seq})`);
      column.push(...page.cards);
      complete = page.complete;
      after = page.cards.at(-1) ?? after;
    }
    leads.push(...column);
  }
  return { snapshot, leads };
}
