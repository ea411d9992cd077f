/**
 * Pure rules of dragging a card with a pointer: when a press becomes a drag (mouse:
 * after a few pixels; touch and pen: after a long press held still, so a swipe scrolls),
 * where a drop lands, how fast to auto-scroll near an edge, and the FLIP offset of a card
 * that moved. No DOM; the drag controller measures and calls these.
 */

export type PointerKind = "mouse" | "touch" | "pen";

export const dragRules = {
  /** A mouse press becomes a drag once it has moved this far. */
  mouseSlopPx: 5,
  /** Touch and pen: hold this long without moving more than `pressSlopPx` to pick a card up. */
  longPressMs: 400,
  pressSlopPx: 8,
  /** Auto-scroll starts this close to a scroller's edge and tops out at `maxScrollPx` per frame. */
  edgePx: 56,
  maxScrollPx: 18,
} as const;

export function pointerKind(type: string): PointerKind {
  return type === "touch" || type === "pen" ? type : "mouse";
}

/** A drag that needs a long press first (the finger or pen may be scrolling instead). */
export const needsLongPress = (kind: PointerKind): boolean => kind !== "mouse";

export type PressDecision = "wait" | "start" | "abandon";

/**
 * A pointer moved by (dx, dy) since it went down on a card, before any drag started.
 * Mouse: a drag once past the slop. Touch and pen: moving before the long press ends
 * means scrolling, so the press is abandoned (the timer, not movement, starts their drag).
 */
export function pressMoved(kind: PointerKind, dx: number, dy: number): PressDecision {
  const distance = Math.hypot(dx, dy);
  if (!needsLongPress(kind)) return distance >= dragRules.mouseSlopPx ? "start" : "wait";
  return distance > dragRules.pressSlopPx ? "abandon" : "wait";
}

/** The long-press timer fired: a drag if the pointer stayed (nearly) still. */
export function pressHeld(dx: number, dy: number): Exclude<PressDecision, "wait"> {
  return Math.hypot(dx, dy) <= dragRules.pressSlopPx ? "start" : "abandon";
}

/** A rendered card of the column under the pointer, in column order (the dragged card left out). */
export interface CardBox {
  id: string;
  top: number;
  bottom: number;
}

/**
 * The card a drop at height `y` lands directly above: the first whose middle is below `y`.
 * Past every rendered card, it is `nextAfterLast` (the first card of the column not
 * rendered below them, or null: the end of the column).
 */
export function dropBeforeAt(boxes: readonly CardBox[], y: number, nextAfterLast: string | null): string | null {
  for (const box of boxes) if (y < (box.top + box.bottom) / 2) return box.id;
  return nextAfterLast;
}

/** The id of the card after `id` in `list`, skipping `skipId` (the dragged card); null at the end. */
export function nextId(list: readonly { id: string }[], id: string | null, skipId: string): string | null {
  let i = id === null ? -1 : list.findIndex((c) => c.id === id);
  if (id !== null && i < 0) return null;
  for (i += 1; i < list.length; i++) {
    const c = list[i] as { id: string };
    if (c.id !== skipId) return c.id;
  }
  return null;
}

/**
 * Auto-scroll speed along one axis for a pointer at `pos` in a scroller spanning
 * [start, end): negative near the start, positive near the end, faster closer to the edge.
 */
export function edgeSpeed(pos: number, start: number, end: number, edge: number = dragRules.edgePx, max: number = dragRules.maxScrollPx): number {
  if (pos < start || pos > end || end <= start) return 0;
  // A small scroller keeps a middle where nothing scrolls.
  const zone = Math.min(edge, (end - start) / 4);
  if (pos < start + zone) return -Math.ceil(max * ((start + zone - pos) / zone));
  if (pos > end - zone) return Math.ceil(max * ((pos - (end - zone)) / zone));
  return 0;
}

export interface Point {
  x: number;
  y: number;
}

/** How far a card must be shifted back to appear where it was (FLIP's "invert"); null when it did not move. */
export function flipDelta(before: Point, after: Point, minPx = 1): Point | null {
  const dx = before.x - after.x;
  const dy = before.y - after.y;
  return Math.abs(dx) < minPx && Math.abs(dy) < minPx ? null : { x: dx, y: dy };
}

/** A click this soon after a drag ended belongs to the drag (the pointer was released), not an "open". */
export const clickAfterDragMs = 350;
