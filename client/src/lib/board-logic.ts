/**
 * Pure board rules of the client: ordering, applying events, placing a dropped card.
 * No DOM, no Svelte, no socket: everything here can be unit tested in plain Node.
 */
import type { BoardEvent, BoardStage, LeadCard } from "../../../shared/board.ts";
import { compareRanks, rankBetween } from "../../../shared/domain/ranks.ts";
import {
  checkTransition,
  requirementLabels,
  type RequirementKey,
  type TransitionCheck,
} from "../../../shared/domain/stages.ts";
import type { Principal } from "../../../shared/domain/permissions.ts";
import { gateRefusedMessage, gatesRefused, stageWorkProblem } from "../../../shared/domain/role-rules.ts";
import type { LeadMoveInput } from "../../../shared/schemas/board.ts";
import { applyScored, averageShown, scoredHighlight, shownScore, type PendingCards } from "./score-logic.ts";

/** Column order: rank (bytewise), then id so equal ranks still order the same everywhere. */
export function compareCards(a: LeadCard, b: LeadCard): number {
  return compareRanks(a.rank, b.rank) || compareRanks(a.id, b.id);
}

export function sortCards(cards: Iterable<LeadCard>): LeadCard[] {
  return [...cards].sort(compareCards);
}

/** The cards of one column, in order. */
export function cardsInStage(cards: Iterable<LeadCard>, stageKey: string): LeadCard[] {
  return sortCards([...cards].filter((c) => c.stage === stageKey));
}

/** Every stage's cards in order; cards of unknown stages are left out. */
export function groupByStage(stages: readonly BoardStage[], cards: Iterable<LeadCard>): Map<string, LeadCard[]> {
  const groups = new Map<string, LeadCard[]>(stages.map((s) => [s.key, []]));
  for (const card of cards) groups.get(card.stage)?.push(card);
  for (const list of groups.values()) list.sort(compareCards);
  return groups;
}

export function sortStages(stages: readonly BoardStage[]): BoardStage[] {
  return [...stages].sort((a, b) => a.position - b.position);
}

/**
 * Puts the server's view of a card into the map, unless the map already holds a
 * newer version of it (an ack can overtake the event that announces the same change).
 */
export function upsertCard(cards: Map<string, LeadCard>, card: LeadCard): boolean {
  const current = cards.get(card.id);
  if (current && current.version > card.version) return false;
  cards.set(card.id, card);
  return true;
}

/**
 * Applying an event is an upsert of the full card it carries. A score event spares a
 * pending move's optimistic place (see applyScored), so `pending` is passed when known.
 */
export function applyEvent(cards: Map<string, LeadCard>, event: BoardEvent, pending?: Map<string, PendingCards>): boolean {
  if (event.type === "stages.changed") return false;
  if (event.type === "lead.left_view") return cards.delete(event.leadId);
  if (event.type === "lead.removed") return cards.delete(event.lead.id);
  if (event.type === "lead.scored") return applyScored(cards, pending, event);
  return upsertCard(cards, event.lead);
}

const verbs: Record<Exclude<BoardEvent["type"], "lead.scored">, string> = {
  "lead.created": "added by",
  "lead.moved": "moved by",
  "lead.updated": "updated by",
  "lead.removed": "removed by",
  "stages.changed": "changed by",
  "lead.left_view": "changed by",
};

/** What a card shows of someone else's change, e.g. "moved by Mia Marketer"; null for none. */
export function highlightText(event: BoardEvent): string | null {
  if (event.type === "lead.scored") return scoredHighlight(event);
  return `${verbs[event.type]} ${event.actor.name}`;
}

export type SeqDecision = "apply" | "stale" | "gap";

/** What to do with an event given the last applied seq: in order, old news, or a hole. */
export function seqDecision(lastSeq: number, seq: number): SeqDecision {
  if (seq <= lastSeq) return "stale";
  return seq === lastSeq + 1 ? "apply" : "gap";
}

export interface Neighbours {
  afterId?: string;
  beforeId?: string;
}

/**
 * Where a card dropped onto `targetId` lands: directly above the target. `column` is the
 * target column in order; the moving card itself is never its own neighbour.
 * A null target means the empty space of the column: append (no neighbours).
 */
export function dropNeighbours(column: readonly LeadCard[], movingId: string, targetId: string | null): Neighbours {
  if (targetId === null) return {};
  const others = column.filter((c) => c.id !== movingId);
  const index = others.findIndex((c) => c.id === targetId);
  if (index < 0) return {};
  const above = others[index - 1];
  return above ? { afterId: above.id, beforeId: targetId } : { beforeId: targetId };
}

/**
 * A provisional rank for an optimistic move, computed the way the server does:
 * between both neighbours, or next to the one that is known, or after the last card.
 */
export function provisionalRank(column: readonly LeadCard[], movingId: string, where: Neighbours): string {
  const others = column.filter((c) => c.id !== movingId);
  const ai = where.afterId ? others.findIndex((c) => c.id === where.afterId) : -1;
  const bi = where.beforeId ? others.findIndex((c) => c.id === where.beforeId) : -1;
  const rankAt = (i: number) => others[i]?.rank ?? null;
  if (ai >= 0 && bi >= 0) return rankBetween(rankAt(ai), rankAt(bi));
  if (ai >= 0) return rankBetween(rankAt(ai), rankAt(ai + 1));
  if (bi >= 0) return rankBetween(bi > 0 ? rankAt(bi - 1) : null, rankAt(bi));
  return rankBetween(others.length > 0 ? rankAt(others.length - 1) : null, null);
}

/** True when the move would leave the card exactly where it is. */
export function isSamePlace(column: readonly LeadCard[], card: LeadCard, toStage: string, where: Neighbours): boolean {
  if (card.stage !== toStage) return false;
  const index = column.findIndex((c) => c.id === card.id);
  if (index < 0) return false;
  const above = column[index - 1]?.id;
  const below = column[index + 1]?.id;
  if (!where.afterId && !where.beforeId) return below === undefined;
  if (where.beforeId) return where.beforeId === below && (where.afterId ?? undefined) === above;
  return where.afterId === above;
}

/** A drop refused by the mover's role rather than the process: what the column says. */
export type DropCheck = TransitionCheck | { allowed: false; missing: []; message: string; short: string };

/**
 * The gate rule for dragging `card` into `toKey`, and, given the mover, the role rules the
 * server applies too (shared/domain/role-rules.ts: a gate the move would tick that is not
 * theirs, a stage their role does not work); null when a stage is unknown.
 */
export function gateFor(card: LeadCard, stages: readonly BoardStage[], toKey: string, mover?: Principal): DropCheck | null {
  const from = stages.find((s) => s.key === card.stage);
  const to = stages.find((s) => s.key === toKey);
  if (!from || !to) return null;
  const check = checkTransition(card, from, to, false);
  if (!check.allowed || !mover) return check;
  const stageProblem = stageWorkProblem(mover, from, to);
  if (stageProblem) return { allowed: false, missing: [], message: stageProblem, short: "not a stage your role works" };
  const [gate] = gatesRefused(mover, check.ticks);
  if (gate) return { allowed: false, missing: [], message: gateRefusedMessage(mover, gate), short: `${requirementLabels[gate]} is not your gate` };
  return check;
}

/** The short form shown on a column while dragging, e.g. "needs sales ready". */
export function shortReason(check: DropCheck): string {
  if (check.allowed) return "";
  if ("short" in check) return check.short;
  return `needs ${check.missing.map((r) => requirementLabels[r]).join(" and ")}`;
}

/** A line of a card's "Move to stage…" menu: every stage, the unavailable ones with why. */
export interface StageChoice {
  key: string;
  name: string;
  disabled: boolean;
  /** "current stage", or the gate's short reason; null when the stage may be chosen. */
  reason: string | null;
}

export function stageChoices(card: LeadCard, stages: readonly BoardStage[], mover?: Principal): StageChoice[] {
  return stages.map((stage) => {
    if (stage.key === card.stage) return { key: stage.key, name: stage.name, disabled: true, reason: "current stage" };
    const gate = gateFor(card, stages, stage.key, mover);
    const reason = gate && !gate.allowed ? shortReason(gate) : null;
    return { key: stage.key, name: stage.name, disabled: reason !== null, reason };
  });
}

export type MovePlan =
  | { kind: "noop" }
  | { kind: "refused"; reason: string; missing: RequirementKey[] }
  | { kind: "move"; optimistic: LeadCard; payload: LeadMoveInput };

/**
 * Everything a move decides before it is sent: nothing to do, refused by the gate or,
 * given the mover, by the role rules (with the reason), or the optimistic card and the command. `column` is the target
 * column in order; `nowIso` becomes the card's provisional stageEnteredAt.
 */
export function planMove(
  card: LeadCard,
  stages: readonly BoardStage[],
  column: readonly LeadCard[],
  toStageKey: string,
  neighbours: Neighbours,
  nowIso: string,
  mover?: Principal,
): MovePlan {
  const to = stages.find((s) => s.key === toStageKey);
  if (!to) return { kind: "noop" };
  const where: Neighbours = {};
  if (neighbours.afterId && neighbours.afterId !== card.id) where.afterId = neighbours.afterId;
  if (neighbours.beforeId && neighbours.beforeId !== card.id) where.beforeId = neighbours.beforeId;
  if (isSamePlace(column, card, to.key, where)) return { kind: "noop" };
  const gate = gateFor(card, stages, to.key, mover);
  if (gate && !gate.allowed) return { kind: "refused", reason: gate.message, missing: gate.missing };
  const optimistic: LeadCard = {
    ...card,
    stage: to.key,
    stageId: to.id,
    rank: provisionalRank(column, card.id, where),
    stageEnteredAt: card.stage === to.key ? card.stageEnteredAt : nowIso,
  };
  return { kind: "move", optimistic, payload: { leadId: card.id, toStage: to.key, expectedVersion: card.version, ...where } };
}

/** Time since `fromIso`: "3d", "5h", "12m" (never negative). */
export function formatAge(fromIso: string, nowMs: number): string {
  const from = Date.parse(fromIso);
  if (Number.isNaN(from)) return "—";
  const minutes = Math.max(0, Math.floor((nowMs - from) / 60_000));
  if (minutes >= 24 * 60) return `${Math.floor(minutes / (24 * 60))}d`;
  if (minutes >= 60) return `${Math.floor(minutes / 60)}h`;
  return `${minutes}m`;
}

/** Mean of the scores the cards show (the best, or one model's), rounded; null when none has one. */
export function averageScore(cards: readonly LeadCard[], modelId: string | null = null): number | null {
  return averageShown(cards, modelId);
}

/** What a column header sums up: the score shown on each card (the chosen model's, or the best). */
export type ColumnStat = "average" | "sum";

export interface ColumnTotals {
  count: number;
  /** Cards that show a score (the others count, but add nothing). */
  scored: number;
  sum: number | null;
  average: number | null;
}

export function columnTotals(cards: readonly LeadCard[], modelId: string | null = null): ColumnTotals {
  let sum = 0;
  let scored = 0;
  for (const card of cards) {
    const shown = shownScore(card, modelId);
    if (!shown) continue;
    sum += shown.score;
    scored++;
  }
  return {
    count: cards.length,
    scored,
    sum: scored === 0 ? null : sum,
    average: scored === 0 ? null : Math.round(sum / scored),
  };
}

/** "Avg 54", "Sum 1,230", "Avg —" (no card shows a score). */
export function statText(stat: ColumnStat, totals: ColumnTotals): string {
  const value = stat === "sum" ? totals.sum : totals.average;
  return `${stat === "sum" ? "Sum" : "Avg"} ${value === null ? "—" : value.toLocaleString("en-US")}`;
}

/** The current card a CONFLICT answer carries in `details.lead`, if it looks like one. */
export function conflictCard(details: unknown): LeadCard | undefined {
  if (typeof details !== "object" || details === null || !("lead" in details)) return undefined;
  return isLeadCard(details.lead) ? details.lead : undefined;
}

/** A loose check that a value from the wire (e.g. CONFLICT details.lead) is a card. */
export function isLeadCard(value: unknown): value is LeadCard {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === "string" &&
    typeof v.stage === "string" &&
    typeof v.rank === "string" &&
    typeof v.version === "number" &&
    typeof v.topic === "string"
  );
}
