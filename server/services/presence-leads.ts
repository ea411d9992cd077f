import type { BoardStage } from "../../shared/board.ts";
import type { Db } from "../db/client.ts";
import { findBoard, listStages } from "../repositories/boards.ts";
import { findCards } from "../repositories/leads.ts";
import type { HeldLead } from "./presence.ts";

export interface HeldLeads {
  stages: BoardStage[];
  leads: Map<string, HeldLead>;
}

/** The board's stages and the open leads among `leadIds` on it: what presence filtering per view needs. */
export async function loadHeldLeads(db: Db, boardId: string, leadIds: readonly string[]): Promise<HeldLeads> {
  const board = await findBoard(db, boardId);
  if (!board) return { stages: [], leads: new Map() };
  const [stages, cards] = await Promise.all([listStages(db, board.processId), findCards(db, leadIds)]);
  const leads = new Map<string, HeldLead>();
  for (const card of cards.values()) if (card.processId === board.processId) leads.set(card.id, card);
  return { stages, leads };
}
