import { describe, expect, it } from "vitest";
import { reloadDelayMs, versionDecision, type VersionDecision } from "../../client/src/lib/wall/version.ts";

describe("reloading after a deploy", () => {
  it.each([
    ["the first version heard is the page's own", null, "v1", { known: "v1", reload: false }],
    ["the same version on a reconnect", "v1", "v1", { known: "v1", reload: false }],
    ["another version on a reconnect: a new client was deployed", "v1", "v2", { known: "v1", reload: true }],
    ["nothing usable before any version", null, "", null],
    ["nothing usable after one", "v1", "", { known: "v1", reload: false }],
    ["not a string", "v1", 42, { known: "v1", reload: false }],
    ["undefined", null, undefined, null],
  ] as const)("%s", (_name, known, reported, expected) => {
    expect(versionDecision(known, reported)).toEqual(expected);
  });

  it("a sequence of connections reloads once the version changes, and the page's version stays the first one", () => {
    let known: string | null = null;
    const reloads: boolean[] = [];
    for (const v of ["a", "a", "a", "b", "a"]) {
      const d: VersionDecision = versionDecision(known, v)!;
      known = d.known;
      reloads.push(d.reload);
    }
    expect(reloads).toEqual([false, false, false, true, false]);
    expect(known).toBe("a");
  });

  it("waits a few seconds, spread between walls", () => {
    expect(reloadDelayMs(() => 0)).toBe(3_000);
    expect(reloadDelayMs(() => 0.5)).toBe(6_500);
    expect(reloadDelayMs(() => 0.999999)).toBeLessThanOrEqual(10_000);
    expect(reloadDelayMs(() => Number.NaN)).toBe(3_000);
    expect(reloadDelayMs(() => 7)).toBe(10_000);
  });
});
