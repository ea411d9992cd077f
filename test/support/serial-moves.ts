/**
 * A serial model of the server's moves, for checking that concurrent moves lost nothing:
 * replaying the accepted moves one after another, in the order of their events, must give
 * exactly the state the database ended in. The rank rule is the server's (lead-service's
 * rankFor): between the neighbours still in the column, else next to the one that is,
 * else at the bottom.
 */
import type { LeadCard } from "../../shared/board.ts";
import { compareRanks, rankBetween } from "../../shared/domain/ranks.ts";
import type { LeadMoveInput } from "../../shared/schemas/board.ts";

export interface Placement {
  stage: string;
  rank: string;
  version: number;
}

export type BoardState = Map<string, Placement>;

export function stateOf(cards: Iterable<LeadCard>): BoardState {
  return new Map([...cards].map((c) => [c.id, { stage: c.stage, rank: c.rank, version: c.version }]));
}

/** The rank the server gives a lead moved into `stage` with these neighbours. */
export function serialRank(state: BoardState, leadId: string, stage: string, input: Pick<LeadMoveInput, "afterId" | "beforeId">): string {
  const others = [...state.entries()].filter(([id, p]) => id !== leadId && p.stage === stage).map(([id, p]) => ({ id, rank: p.rank }));
  const rankOf = (id: string | undefined) => (id && id !== leadId ? others.find((o) => o.id === id)?.rank : undefined);
  const after = rankOf(input.afterId);
  const before = rankOf(input.beforeId);
  const ranks = others.map((o) => o.rank).sort(compareRanks);
  if (after !== undefined && before !== undefined) return rankBetween(after, before);
  if (after !== undefined) return rankBetween(after, ranks.find((r) => compareRanks(r, after) > 0) ?? null);
  if (before !== undefined) return rankBetween(ranks.filter((r) => compareRanks(r, before) < 0).at(-1) ?? null, before);
  return rankBetween(ranks.at(-1) ?? null, null);
}

/**
 * Applies one accepted move to the serial state. Throws when the move was accepted
 * against a version the serial order says it could not have seen: a lost update.
 */
export function applySerially(state: BoardState, move: LeadMoveInput): void {
  const current = state.get(move.leadId);
  if (!current) throw new Error(`lead ${move.leadId} is not on the board`);
  if (current.version !== move.expectedVersion) {
    throw new Error(`a move of ${move.leadId} expected version ${move.expectedVersion} but the serial state is at ${current.version}`);
  }
  const rank = serialRank(state, move.leadId, move.toStage, move);
  state.set(move.leadId, { stage: move.toStage, rank, version: current.version + 1 });
}

export function sortedState(state: BoardState): Record<string, Placement> {
  return Object.fromEntries([...state.entries()].sort(([a], [b]) => compareRanks(a, b)));
}
