/**
 * Moving a card with the keyboard: Space picks it up, the arrows choose a column and a
 * position, Space or Enter drops it, Escape puts it back. Pure: the board passes the
 * columns as they are shown and a gate check, and speaks the announcements returned here.
 */

/** A column as shown on the board, in order (filters applied). */
export interface KeyColumn {
  key: string;
  name: string;
  cards: readonly { id: string }[];
}

/** A picked-up card and where it would land: `index` among the target column's other cards. */
export interface KeyPick {
  leadId: string;
  topic: string;
  fromStage: string;
  fromIndex: number;
  stage: string;
  index: number;
}

export type MoveKey = "ArrowLeft" | "ArrowRight" | "ArrowUp" | "ArrowDown";

export const isMoveKey = (key: string): key is MoveKey =>
  key === "ArrowLeft" || key === "ArrowRight" || key === "ArrowUp" || key === "ArrowDown";

/** Why `leadId` may not enter `stageKey` (e.g. "needs sales ready"), or null when it may. */
export type RefusalOf = (stageKey: string) => string | null;

/** The column's cards other than the moving one. */
export function othersIn(column: KeyColumn | undefined, leadId: string): { id: string }[] {
  return (column?.cards ?? []).filter((c) => c.id !== leadId);
}

export function pickUp(columns: readonly KeyColumn[], leadId: string, topic: string): KeyPick | null {
  for (const column of columns) {
    const index = column.cards.findIndex((c) => c.id === leadId);
    if (index >= 0) return { leadId, topic, fromStage: column.key, fromIndex: index, stage: column.key, index };
  }
  return null;
}

export interface StepResult {
  pick: KeyPick;
  /** False when the key could not move the target (an edge): the announcement says so. */
  moved: boolean;
}

/**
 * One arrow key: Left/Right to the neighbouring column (keeping the row where the column
 * is long enough; refused columns are entered too, so the ones past them stay reachable),
 * Up/Down one position, stopping at the ends.
 */
export function step(pick: KeyPick, key: MoveKey, columns: readonly KeyColumn[]): StepResult {
  const at = columns.findIndex((c) => c.key === pick.stage);
  if (at < 0) return { pick, moved: false };
  if (key === "ArrowLeft" || key === "ArrowRight") {
    const to = columns[at + (key === "ArrowLeft" ? -1 : 1)];
    if (!to) return { pick, moved: false };
    const count = othersIn(to, pick.leadId).length;
    return { pick: { ...pick, stage: to.key, index: Math.min(pick.index, count) }, moved: true };
  }
  const count = othersIn(columns[at], pick.leadId).length;
  const index = Math.min(count, Math.max(0, pick.index + (key === "ArrowUp" ? -1 : 1)));
  return { pick: { ...pick, index }, moved: index !== pick.index };
}

/** The card the pick would land directly above, or null for the end of the column. */
export function beforeIdOf(pick: KeyPick, columns: readonly KeyColumn[]): string | null {
  const others = othersIn(columns.find((c) => c.key === pick.stage), pick.leadId);
  return others[Math.min(pick.index, others.length)]?.id ?? null;
}

/** "position 3 of 12": counting the moving card as one of the column's. */
export function positionText(pick: KeyPick, columns: readonly KeyColumn[]): string {
  const count = othersIn(columns.find((c) => c.key === pick.stage), pick.leadId).length;
  return `position ${Math.min(pick.index, count) + 1} of ${count + 1}`;
}

const nameOf = (columns: readonly KeyColumn[], key: string): string => columns.find((c) => c.key === key)?.name ?? key;

export function pickedUpText(pick: KeyPick, columns: readonly KeyColumn[]): string {
  return (
    `Picked up ${pick.topic}, in ${nameOf(columns, pick.stage)}, ${positionText(pick, columns)}. ` +
    "Use the arrow keys to move, Space to drop, Escape to cancel."
  );
}

/** What a step says: the new place, or why the column refuses the lead, or that it is at an edge. */
export function stepText(before: KeyPick, result: StepResult, columns: readonly KeyColumn[], refusal: RefusalOf, key: MoveKey): string {
  const { pick } = result;
  if (!result.moved) {
    if (key === "ArrowLeft") return "Already in the first column.";
    if (key === "ArrowRight") return "Already in the last column.";
    return key === "ArrowUp" ? "Already at the top." : "Already at the bottom.";
  }
  const name = nameOf(columns, pick.stage);
  const reason = pick.stage === pick.fromStage ? null : refusal(pick.stage);
  if (reason !== null) return `${name}: cannot move here, ${reason}.`;
  const where = positionText(pick, columns);
  return pick.stage === before.stage ? `${where[0]?.toUpperCase()}${where.slice(1)}.` : `${name}, ${where}.`;
}

export function droppedText(pick: KeyPick, columns: readonly KeyColumn[]): string {
  return `Dropped ${pick.topic} in ${nameOf(columns, pick.stage)}, ${positionText(pick, columns)}.`;
}

export function cancelledText(pick: KeyPick, columns: readonly KeyColumn[]): string {
  const back: KeyPick = { ...pick, stage: pick.fromStage, index: pick.fromIndex };
  return `Move cancelled. ${pick.topic} is back in ${nameOf(columns, pick.fromStage)}, ${positionText(back, columns)}.`;
}

export function refusedDropText(pick: KeyPick, columns: readonly KeyColumn[], reason: string): string {
  return `Cannot drop ${pick.topic} in ${nameOf(columns, pick.stage)}: ${reason}. Still holding it.`;
}

/** True when dropping would leave the card where it was picked up. */
export const isUnmoved = (pick: KeyPick): boolean => pick.stage === pick.fromStage && pick.index === pick.fromIndex;
