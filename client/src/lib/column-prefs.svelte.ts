/**
 * How this browser shows a process's columns: which are collapsed to a strip, and whether
 * a header sums or averages the shown scores (board-wide, or per column). Kept in
 * localStorage per process; a missing or damaged entry falls back to the defaults.
 */
import { SvelteMap } from "svelte/reactivity";
import type { ColumnStat } from "./board-logic.ts";

export interface ColumnPrefsData {
  collapsed: string[];
  /** The board-wide statistic; `stats` overrides it per stage key. */
  stat: ColumnStat;
  stats: Record<string, ColumnStat>;
}

export const defaultPrefs = (): ColumnPrefsData => ({ collapsed: [], stat: "average", stats: {} });

const isStat = (v: unknown): v is ColumnStat => v === "average" || v === "sum";

/** Reads a stored entry, keeping only what is well-formed. */
export function parsePrefs(raw: string | null): ColumnPrefsData {
  const prefs = defaultPrefs();
  if (!raw) return prefs;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return prefs;
  }
  if (typeof value !== "object" || value === null) return prefs;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.collapsed)) prefs.collapsed = v.collapsed.filter((k): k is string => typeof k === "string");
  if (isStat(v.stat)) prefs.stat = v.stat;
  if (typeof v.stats === "object" && v.stats !== null) {
    for (const [key, stat] of Object.entries(v.stats)) if (isStat(stat)) prefs.stats[key] = stat;
  }
  return prefs;
}

export const prefsKey = (processId: string): string => `lpb.board-columns.${processId}`;

type Store = Pick<Storage, "getItem" | "setItem">;

function browserStore(): Store | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    // Storage may be disabled (privacy settings): preferences then last for the page only.
    return null;
  }
}

export class ColumnPrefs {
  readonly #processId: () => string | null;
  readonly #store: Store | null;
  /** Choices made on this page, by process (reactive). */
  readonly #changed = new SvelteMap<string, ColumnPrefsData>();
  /** What storage held, read once per process (a plain cache: reading it is not a change). */
  readonly #stored = new Map<string, ColumnPrefsData>();

  /** `processId` reads the board's current process, so a switch of process switches preferences. */
  constructor(processId: () => string | null, store: Store | null = browserStore()) {
    this.#processId = processId;
    this.#store = store;
  }

  get #data(): ColumnPrefsData {
    const id = this.#processId();
    if (id === null) return defaultPrefs();
    const changed = this.#changed.get(id);
    if (changed) return changed;
    let stored = this.#stored.get(id);
    if (!stored) {
      stored = parsePrefs(this.#read(prefsKey(id)));
      this.#stored.set(id, stored);
    }
    return stored;
  }

  get boardStat(): ColumnStat {
    return this.#data.stat;
  }

  isCollapsed(stageKey: string): boolean {
    return this.#data.collapsed.includes(stageKey);
  }

  statOf(stageKey: string): ColumnStat {
    return this.#data.stats[stageKey] ?? this.#data.stat;
  }

  setCollapsed(stageKey: string, collapsed: boolean): void {
    const data = this.#data;
    const others = data.collapsed.filter((k) => k !== stageKey);
    this.#write({ ...data, collapsed: collapsed ? [...others, stageKey] : others });
  }

  /** One column's statistic. */
  setStat(stageKey: string, stat: ColumnStat): void {
    const data = this.#data;
    this.#write({ ...data, stats: { ...data.stats, [stageKey]: stat } });
  }

  /** The board-wide statistic; it replaces every column's own choice. */
  setBoardStat(stat: ColumnStat): void {
    this.#write({ ...this.#data, stat, stats: {} });
  }

  #read(key: string): string | null {
    try {
      return this.#store?.getItem(key) ?? null;
    } catch {
      return null;
    }
  }

  #write(data: ColumnPrefsData): void {
    const id = this.#processId();
    if (id === null) return;
    this.#changed.set(id, data);
    try {
      this.#store?.setItem(prefsKey(id), JSON.stringify(data));
    } catch {
      // Full or disabled storage: the choice still holds until the page is left.
    }
  }
}
