/**
 * Reloading after a deploy: the server says which client build it serves on every
 * connection (`server:version`). The first one a wall hears is its own build (it was just
 * loaded from that server); a later connection that reports another build means a new
 * client was deployed, and the wall reloads itself to run it.
 */

export interface VersionDecision {
  /** The build this page runs (the first version heard). */
  known: string;
  reload: boolean;
}

export function versionDecision(known: string | null, reported: unknown): VersionDecision | null {
  // Something that is not a version (an older or a broken server) changes nothing.
  if (typeof reported !== "string" || reported === "") return known === null ? null : { known, reload: false };
  if (known === null) return { known: reported, reload: false };
  return { known, reload: reported !== known };
}

/**
 * How long to wait before reloading: a few seconds, spread so that every wall of a building
 * does not fetch the new client in the same instant. `random` is in [0, 1).
 */
export function reloadDelayMs(random: () => number = Math.random, minMs = 3_000, spreadMs = 7_000): number {
  const r = random();
  return Math.round(minMs + (Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0) * spreadMs);
}
