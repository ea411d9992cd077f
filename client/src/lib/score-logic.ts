/**
 * Pure rules of scores on the board: which score a card shows for the chosen model, its
 * trend, the breakdown lines of the popover and the drawer, what a `lead.scored` event
 * changes, and who is alerted of a sales-ready lead. No DOM, no Svelte, no clock.
 */
import type { BoardEvent, CardScore, LeadCard, ScoreChange } from "../../../shared/board.ts";
import { interactionLabels, trendOf, type InteractionType, type Trend } from "../../../shared/domain/scoring.ts";
import type { Role } from "../../../shared/schemas/common.ts";
import type { ScoreExplanation } from "../../../shared/schemas/scoring.ts";
import type { ToastAction } from "./notices.svelte.ts";

export type ScoredEvent = Extract<BoardEvent, { type: "lead.scored" }>;

/** What a card shows: one model's score, or the best of them (modelId null). */
export interface ShownScore {
  score: number;
  grade: string | null;
  previousScore: number | null;
  trend: Trend;
  /** The model the score comes from, when the card knows it. */
  modelId: string | null;
  salesReady: boolean;
}

type ScoredCard = Pick<LeadCard, "score" | "grade" | "scores">;

const cardScores = (card: Pick<LeadCard, "scores">): readonly CardScore[] => card.scores ?? [];

/** The best of the card's model scores (the first of equals), which `card.score` summarises. */
export function bestScore(card: ScoredCard): CardScore | null {
  let best: CardScore | null = null;
  for (const s of cardScores(card)) if (best === null || s.score > best.score) best = s;
  return best;
}

const fromCardScore = (s: CardScore): ShownScore => ({
  score: s.score,
  grade: s.grade,
  previousScore: s.previousScore,
  trend: trendOf(s.score, s.previousScore),
  modelId: s.modelId,
  salesReady: s.salesReady,
});

/** The score a card shows under `modelId` (null = best); null when it has none. */
export function shownScore(card: ScoredCard, modelId: string | null): ShownScore | null {
  if (modelId !== null) {
    const s = cardScores(card).find((c) => c.modelId === modelId);
    return s ? fromCardScore(s) : null;
  }
  const best = bestScore(card);
  if (best && (card.score === null || best.score === card.score)) return fromCardScore(best);
  if (card.score === null) return null;
  return { score: card.score, grade: card.grade, previousScore: null, trend: "flat", modelId: null, salesReady: false };
}

/** The model to show: the chosen one while it is live (or the list is not known yet), else the best. */
export function effectiveModel(chosen: string | null, liveModelIds: readonly string[] | null): string | null {
  if (chosen === null || liveModelIds === null) return chosen;
  return liveModelIds.includes(chosen) ? chosen : null;
}

export const trendArrows: Record<Trend, string> = { up: "↑", down: "↓", flat: "" };

/** "up from 30", "down from 55", "" when unchanged. */
export function trendText(shown: Pick<ShownScore, "trend" | "previousScore">): string {
  if (shown.trend === "flat" || shown.previousScore === null) return "";
  return `${shown.trend} from ${shown.previousScore}`;
}

/** "42 · B", "42", or "—". */
export function scoreText(shown: Pick<ShownScore, "score" | "grade"> | null): string {
  if (!shown) return "—";
  return shown.grade ? `${shown.score} · ${shown.grade}` : `${shown.score}`;
}

/**
 * The score button's accessible name. It starts with the visible text (so voice control finds it),
 * e.g. "Score 42 · B, up from 30 (Website model). Show the breakdown".
 */
export function scoreLabel(shown: ShownScore | null, modelName: string | null, scorable: boolean): string {
  const model = modelName ?? "best of the live models";
  if (!shown) return scorable ? `Score — (${model}): not scored. Show why` : "Score —: unscorable, no contact or account";
  const trend = trendText(shown);
  return `Score ${scoreText(shown)}${trend ? `, ${trend}` : ""} (${model}). Show the breakdown`;
}

/** "+10", "-5", "0". */
export function pointsText(points: number): string {
  return points > 0 ? `+${points}` : `${points}`;
}

/** How long ago `iso` was at `nowMs`: "just now", "2 min ago", "3 h ago", "5 days ago". */
export function formatAgo(iso: string, nowMs: number): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return "some time ago";
  const seconds = Math.floor((nowMs - at) / 1000);
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  return days === 1 ? "1 day ago" : `${days} days ago`;
}

export type BreakdownItem = ScoreExplanation["breakdown"][number];
type Evidence = NonNullable<BreakdownItem["evidence"]>[number];

const interactionLabel = (type: string): string =>
  Object.hasOwn(interactionLabels, type) ? interactionLabels[type as InteractionType] : type.replaceAll("_", " ");

/**
 * One interaction behind a condition: "form submitted, 2 min ago". The contact is named when
 * it is not the lead's own (account models count every contact of the account).
 */
export function evidenceText(evidence: Evidence, leadContactId: string | null, nowMs: number): string {
  const who = evidence.contactId !== leadContactId ? (evidence.contactName ?? "another contact") : null;
  return `${interactionLabel(evidence.type)}${who ? ` by ${who}` : ""}, ${formatAgo(evidence.at, nowMs)}`;
}

export interface BreakdownLine {
  key: string;
  points: string;
  sign: "plus" | "minus" | "zero";
  label: string;
  /** "×3" when more than one occurrence counted. */
  times: string;
  details: string[];
}

/** A condition's line and the interactions behind it, for the popover and the drawer. */
export function breakdownLines(explanation: ScoreExplanation, leadContactId: string | null, nowMs: number): BreakdownLine[] {
  return explanation.breakdown.map((item) => {
    const evidence = item.evidence ?? [];
    const details = evidence.map((e) => evidenceText(e, leadContactId, nowMs));
    const contributors = item.contributors ?? [];
    const others = contributors.filter((c) => c.contactId !== leadContactId);
    if (others.length > 0 && contributors.length > 1) {
      details.push(`from ${contributors.map((c) => `${c.contactName ?? "a contact"} ×${c.count}`).join(", ")}`);
    }
    const count = item.count ?? 0;
    if (count > evidence.length && evidence.length > 0) details.push(`and ${count - evidence.length} earlier`);
    return {
      key: `${item.condition}`,
      points: pointsText(item.points),
      sign: item.points > 0 ? "plus" : item.points < 0 ? "minus" : "zero",
      label: item.label,
      times: count > 1 ? `×${count}` : "",
      details,
    };
  });
}

/**
 * The explanations a card's popover shows: the chosen model's, or for "best" every model's,
 * the best first.
 */
export function explanationsFor(all: readonly ScoreExplanation[], modelId: string | null): ScoreExplanation[] {
  if (modelId !== null) return all.filter((e) => e.modelId === modelId);
  return [...all].sort((a, b) => b.score - a.score);
}

/** A cache key that changes whenever the card's scores may have: the lead, its update time and its scores. */
export function explanationKey(card: Pick<LeadCard, "id" | "updatedAt" | "score" | "scores">): string {
  const scores = cardScores(card).map((s) => `${s.modelId}:${s.score}`).join(",");
  return `${card.id}|${card.updatedAt}|${card.score ?? ""}|${scores}`;
}

/** Mean of the shown scores of a column, rounded; null when none is scored. */
export function averageShown(cards: readonly ScoredCard[], modelId: string | null): number | null {
  const scores = cards.map((c) => shownScore(c, modelId)?.score).filter((s): s is number => s !== undefined);
  if (scores.length === 0) return null;
  return Math.round(scores.reduce((sum, s) => sum + s, 0) / scores.length);
}

/** A scored card with another card's scores (a score event for a card whose move is pending). */
export function withScoresOf(card: LeadCard, source: LeadCard): LeadCard {
  return { ...card, score: source.score, grade: source.grade, scores: source.scores, salesReady: source.salesReady, scorable: source.scorable };
}

export interface PendingCards {
  original: LeadCard;
  optimistic: LeadCard;
}

/**
 * Applies a `lead.scored` event. A card whose move is still pending keeps its optimistic
 * place and takes only the new scores (also into the card to restore if the move fails),
 * unless scoring itself moved the lead: then the server's card wins, as for any move.
 */
export function applyScored(cards: Map<string, LeadCard>, pending: Map<string, PendingCards> | undefined, event: ScoredEvent): boolean {
  const id = event.lead.id;
  const p = pending?.get(id);
  const current = cards.get(id);
  if (p && pending && event.moved === null && current === p.optimistic) {
    const optimistic = withScoresOf(p.optimistic, event.lead);
    pending.set(id, { original: withScoresOf(p.original, event.lead), optimistic });
    cards.set(id, optimistic);
    return true;
  }
  if (current && current.version > event.lead.version) return false;
  cards.set(id, event.lead);
  return true;
}

/** Scoring acts on its own: a move it caused is shown as "moved by Scoring". */
export const scoringActor = "Scoring";

/** The highlight of a scored card: only when scoring moved it or made it sales-ready (a score change animates instead). */
export function scoredHighlight(event: ScoredEvent): string | null {
  if (event.moved) return `moved by ${scoringActor}`;
  if (event.salesReadyMarked) return `sales-ready by ${scoringActor}`;
  return null;
}

/** The people who take a sales-ready lead from there. */
export const alertedRoles: readonly Role[] = ["sales_manager", "salesperson"];

export interface SalesReadyAlert {
  leadId: string;
  text: string;
}

/** The change that made the lead sales-ready: the one that crossed, else the highest over its threshold. */
function crossingChange(changes: readonly ScoreChange[]): ScoreChange | undefined {
  const crossed = changes.find((c) => c.crossedThreshold);
  if (crossed) return crossed;
  return [...changes]
    .filter((c) => c.to !== null && c.to >= c.threshold)
    .sort((a, b) => (b.to ?? 0) - b.threshold - ((a.to ?? 0) - a.threshold))[0];
}

/** The toast for a lead that became sales-ready, for the roles that act on it; null otherwise. */
export function salesReadyAlert(event: BoardEvent, role: Role | undefined): SalesReadyAlert | null {
  if (event.type !== "lead.scored" || !role || !alertedRoles.includes(role)) return null;
  // Scoring never marks test leads sales-ready: nobody is to act on them.
  if (event.lead.isTest) return null;
  const crossed = event.changes.some((c) => c.crossedThreshold);
  if (!crossed && !event.salesReadyMarked) return null;
  const change = crossingChange(event.changes);
  const topic = event.lead.topic;
  const text =
    change && change.to !== null
      ? `${topic} is sales-ready: ${change.modelName} ${change.to} ≥ ${change.threshold}`
      : `${topic} is sales-ready`;
  return { leadId: event.lead.id, text };
}

/** The sales-ready alert as a toast, with "Open lead" when the page can open leads; null for none. */
export function salesReadyToast(
  event: BoardEvent,
  role: Role | undefined,
  open: ((leadId: string) => void) | undefined,
): { text: string; action: ToastAction | undefined } | null {
  const alert = salesReadyAlert(event, role);
  if (!alert) return null;
  return { text: alert.text, action: open ? { label: "Open lead", run: () => open(alert.leadId) } : undefined };
}

/** The model named in the page's query (`?model=<id>`); null means the best score. */
export function modelFromSearch(search: string): string | null {
  const value = new URLSearchParams(search).get("model");
  return value ? value : null;
}

/** The query with `model` set or removed, other parameters kept: "?model=…", or "" when empty. */
export function searchWithModel(search: string, modelId: string | null): string {
  const params = new URLSearchParams(search);
  if (modelId === null) params.delete("model");
  else params.set("model", modelId);
  const text = params.toString();
  return text ? `?${text}` : "";
}

export interface Box {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Where a popover of `size` goes next to `anchor` in a viewport: below it, or above when
 * there is no room below; its left edge aligned with the anchor's, kept inside the viewport.
 */
export function popoverPlacement(
  anchor: Box,
  size: { width: number; height: number },
  viewport: { width: number; height: number },
  gap = 6,
): { top: number; left: number; above: boolean } {
  const margin = 8;
  const roomBelow = viewport.height - anchor.bottom - gap - margin;
  const above = roomBelow < size.height && anchor.top - gap - margin > roomBelow;
  const top = above ? Math.max(margin, anchor.top - gap - size.height) : anchor.bottom + gap;
  const maxLeft = Math.max(margin, viewport.width - size.width - margin);
  const left = Math.min(Math.max(margin, anchor.left), maxLeft);
  return { top, left, above };
}

/** How a score moved between two renders, for the change animation; null when it did not. */
export function scoreMove(before: number | null | undefined, after: number | null | undefined): "up" | "down" | null {
  if (before === undefined || before === null || after === undefined || after === null || before === after) return null;
  return after > before ? "up" : "down";
}

export interface PlainScore {
  modelId: string;
  modelName: string | null;
  score: number;
  grade: string | null;
}

/** The scores a lead detail carries, read loosely (its shape does not depend on the breakdown endpoint). */
export function plainScores(value: unknown): PlainScore[] {
  if (!Array.isArray(value)) return [];
  const out: PlainScore[] = [];
  for (const item of value) {
    if (typeof item !== "object" || item === null) continue;
    const r = item as Record<string, unknown>;
    if (typeof r.modelId !== "string" || typeof r.score !== "number") continue;
    out.push({
      modelId: r.modelId,
      modelName: typeof r.modelName === "string" ? r.modelName : null,
      score: r.score,
      grade: typeof r.grade === "string" ? r.grade : null,
    });
  }
  return out;
}
