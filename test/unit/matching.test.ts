import { describe, expect, it } from "vitest";
import { matchKey, mergeIncoming, normalizeMatchValue, type MatchField } from "../../shared/domain/matching.ts";

describe("normalizeMatchValue", () => {
  it.each([
    ["email", "  Ada.Lovelace@Example.COM ", "ada.lovelace@example.com"],
    ["email", "", null],
    ["email", "   ", null],
    ["email", null, null],
    ["lastName", "  van   der  Berg ", "van der berg"],
    ["phone", "+49 (30) 123-456", "+4930123456"],
    ["formId", "ABC-1", "abc-1"],
  ] as Array<[MatchField, string | null, string | null]>)("%s %j → %j", (field, value, expected) => {
    expect(normalizeMatchValue(field, value)).toBe(expected);
  });
});

describe("matchKey", () => {
  it("is equal for values equal after normalisation", () => {
    expect(matchKey(["email"], { email: "A@B.example" })).toBe(matchKey(["email"], { email: " a@b.example" }));
    expect(matchKey(["email", "formId"], { email: "a@b.example", formId: "F" })).toBe(
      matchKey(["email", "formId"], { email: "A@b.example ", formId: "f" }),
    );
  });

  it("differs when any field differs", () => {
    expect(matchKey(["email", "formId"], { email: "a@b.example", formId: "f1" })).not.toBe(
      matchKey(["email", "formId"], { email: "a@b.example", formId: "f2" }),
    );
  });

  it("is null when a field is blank: a strategy that cannot compare everything matches nothing", () => {
    expect(matchKey(["email", "formId"], { email: "a@b.example" })).toBeNull();
    expect(matchKey(["lastName", "company"], { lastName: "Ng", company: " " })).toBeNull();
  });

  it("cannot be confused by values that contain separators", () => {
    expect(matchKey(["firstName", "lastName"], { firstName: "a b", lastName: "c" })).not.toBe(
      matchKey(["firstName", "lastName"], { firstName: "a", lastName: "b c" }),
    );
  });
});

describe("mergeIncoming", () => {
  it.each([
    ["non-empty incoming values win", { a: "old", b: "keep" }, { a: "new" }, { a: "new" }],
    ["nothing is blanked by empty values", { a: "old" }, { a: "" }, {}],
    ["nothing is blanked by whitespace", { a: "old" }, { a: "   " }, {}],
    ["nothing is blanked by null", { a: "old" }, { a: null }, {}],
    ["empty fields are filled", { a: null }, { a: "x" }, { a: "x" }],
    ["equal values are no change", { a: "same" }, { a: " same " }, {}],
  ] as Array<[string, Record<string, string | null>, Record<string, string | null>, Record<string, string>]>)(
    "%s",
    (_name, current, incoming, expected) => {
      expect(mergeIncoming(current, incoming)).toEqual(expected);
    },
  );
});
