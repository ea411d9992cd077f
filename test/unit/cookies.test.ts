import { describe, expect, it } from "vitest";
import { readCookie } from "../../server/http/cookies.ts";

describe("readCookie", () => {
  it.each([
    [undefined, undefined],
    ["", undefined],
    ["a=1; lpb_session=abc; b=2", "abc"],
    ["lpb_session=a%2Fb", "a/b"],
    ['lpb_session="quoted"', "quoted"],
    ["other_lpb_session=x", undefined],
    ["lpb_session=%E0%A4%A", "%E0%A4%A"],
  ])("%j → %j", (header, expected) => {
    expect(readCookie(header, "lpb_session")).toBe(expected);
  });
});
