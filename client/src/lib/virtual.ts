/**
 * Windowing math of a virtualised column: which cards to render for a scroll position,
 * and how tall the spacers standing in for the others are. Cards differ in height (badges,
 * wrapped topics), so measured heights are used where known and an estimate elsewhere.
 * Pure: no DOM; the column feeds in what it measured.
 */

/** Used until any card of the column has been measured (a card with one badge row, plus its gap). */
export const defaultCardHeight = 116;

/**
 * The estimate for unmeasured cards: the mean of the measured ones, else `fallback`.
 * Heights include the gap below each card, so offsets are plain sums.
 */
export function estimateHeight(measured: Iterable<number>, fallback = defaultCardHeight): number {
  let sum = 0;
  let count = 0;
  for (const h of measured) {
    if (!(h > 0)) continue;
    sum += h;
    count++;
  }
  return count === 0 ? fallback : sum / count;
}

/**
 * The top of every card and, last, the total height: `offsets[i]` is where card i starts,
 * `offsets[ids.length]` where the list ends.
 */
export function offsetsOf(ids: readonly string[], heights: ReadonlyMap<string, number>, estimate: number): Float64Array {
  const offsets = new Float64Array(ids.length + 1);
  let top = 0;
  for (let i = 0; i < ids.length; i++) {
    offsets[i] = top;
    top += heights.get(ids[i] as string) ?? estimate;
  }
  offsets[ids.length] = top;
  return offsets;
}

/** The index of the card containing `y` (clamped to the list): the last i with offsets[i] <= y. */
export function indexAt(offsets: Float64Array, y: number): number {
  const count = offsets.length - 1;
  if (count <= 0) return 0;
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((offsets[mid] as number) <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A half-open range of card indexes, [start, end). */
export interface IndexRange {
  start: number;
  end: number;
}

/**
 * The cards to render: those intersecting the viewport, widened by `overscan` pixels on
 * both sides so a quick scroll or a keyboard step finds its neighbours already there.
 */
export function rangeAt(offsets: Float64Array, scrollTop: number, viewport: number, overscan: number): IndexRange {
  const count = offsets.length - 1;
  if (count <= 0) return { start: 0, end: 0 };
  const top = Math.max(0, scrollTop - overscan);
  const bottom = scrollTop + Math.max(0, viewport) + overscan;
  const start = indexAt(offsets, top);
  let end = indexAt(offsets, bottom) + 1;
  if (end > count) end = count;
  return { start, end: Math.max(end, start + 1) };
}

export type Segment = { kind: "gap"; key: string; height: number } | { kind: "item"; index: number };

/**
 * What a column renders, top to bottom: the window's cards, any `keep` cards outside it
 * (the dragged card, the focused one: they must stay in the DOM), and spacers for the rest.
 */
export function segmentsOf(offsets: Float64Array, range: IndexRange, keep: Iterable<number> = []): Segment[] {
  const count = offsets.length - 1;
  const indexes = new Set<number>();
  for (let i = range.start; i < range.end && i < count; i++) indexes.add(i);
  for (const k of keep) if (Number.isInteger(k) && k >= 0 && k < count) indexes.add(k);
  const sorted = [...indexes].sort((a, b) => a - b);
  const segments: Segment[] = [];
  let next = 0;
  for (const index of sorted) {
    if (index > next) segments.push(gap(offsets, next, index));
    segments.push({ kind: "item", index });
    next = index + 1;
  }
  if (count > next) segments.push(gap(offsets, next, count));
  return segments;
}

function gap(offsets: Float64Array, from: number, to: number): Segment {
  return { kind: "gap", key: `gap-${from}-${to}`, height: (offsets[to] as number) - (offsets[from] as number) };
}

/**
 * Records a measured height; true when it changed enough to matter (sub-pixel noise from
 * zoom or fractional layout is ignored, so measuring does not loop).
 */
export function recordHeight(heights: Map<string, number>, id: string, height: number): boolean {
  if (!(height > 0)) return false;
  const old = heights.get(id);
  if (old !== undefined && Math.abs(old - height) < 0.5) return false;
  heights.set(id, height);
  return true;
}

/** The card at the top of the viewport and how far into it the view starts: what must not move. */
export interface ScrollAnchor {
  id: string;
  within: number;
}

/**
 * The anchor of a scroll position; null at the very top (a column scrolled to the top stays
 * there, so cards arriving above are seen).
 */
export function anchorAt(ids: readonly string[], offsets: Float64Array, scrollTop: number): ScrollAnchor | null {
  if (scrollTop <= 0 || ids.length === 0) return null;
  const index = indexAt(offsets, scrollTop);
  const id = ids[index];
  return id === undefined ? null : { id, within: scrollTop - (offsets[index] as number) };
}

/**
 * Where to scroll so the anchor card stays where it was after heights were measured or
 * cards came and went above it (estimates become measurements: without this the view jumps).
 * Null when the anchor card is no longer in the column.
 */
export function anchoredScrollTop(anchor: ScrollAnchor, indexOf: ReadonlyMap<string, number>, offsets: Float64Array): number | null {
  const index = indexOf.get(anchor.id);
  if (index === undefined) return null;
  return (offsets[index] as number) + anchor.within;
}
