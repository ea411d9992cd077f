import { generateKeyBetween } from "fractional-indexing";

/**
 * Rank keys order leads within a column. They are compared bytewise (the database
 * column uses COLLATE "C"), which is also how JavaScript compares ASCII strings.
 */
export function compareRanks(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A key between two neighbours, tolerating neighbours that concurrent moves have
 * made stale: if they are no longer in order, the lead goes right after `after`.
 */
export function rankBetween(after: string | null, before: string | null): string {
  if (after !== null && before !== null && compareRanks(after, before) >= 0) {
    return generateKeyBetween(after, null);
  }
  return generateKeyBetween(after, before);
}

/** `count` keys in order, for seeding or appending many leads at once. */
export function ranksAfter(last: string | null, count: number): string[] {
  const keys: string[] = [];
  let prev = last;
  for (let i = 0; i < count; i++) {
    prev = generateKeyBetween(prev, null);
    keys.push(prev);
  }
  return keys;
}
