import { describe, expect, it } from "vitest";
import type { LeadHolder, PresenceEntry } from "../../../shared/presence.ts";
import {
  activityOf,
  avatarColor,
  holderText,
  holdersByLead,
  initials,
  orderViewers,
  roleLabel,
  sameActivity,
  viewerText,
} from "../../../client/src/lib/presence-logic.ts";

const entry = (userId: string, name: string, activities: PresenceEntry["activities"] = [], connections = 1): PresenceEntry => ({
  userId,
  name,
  role: "telemarketer",
  connections,
  activities,
});

describe("orderViewers", () => {
  it("lists others first in the server's order and marks the signed-in user last", () => {
    const viewers = orderViewers([entry("a", "Ada"), entry("me", "Me"), entry("b", "Bo")], "me");
    expect(viewers.map((v) => [v.userId, v.self])).toEqual([["a", false], ["b", false], ["me", true]]);
  });
});

describe("holdersByLead", () => {
  it("lists other people per lead, one per person, dragging winning over open", () => {
    const holders = holdersByLead(
      [
        entry("mia", "Mia", [{ leadId: "l1", kind: "open" }, { leadId: "l1", kind: "drag" }]),
        entry("leo", "Leo", [{ leadId: "l1", kind: "open" }, { leadId: "l2", kind: "open" }]),
        entry("me", "Me", [{ leadId: "l1", kind: "drag" }, { leadId: "l3", kind: "open" }]),
      ],
      "me",
    );
    expect(holders.get("l1")).toEqual([
      { userId: "mia", name: "Mia", kind: "drag" },
      { userId: "leo", name: "Leo", kind: "open" },
    ]);
    expect(holders.get("l2")).toEqual([{ userId: "leo", name: "Leo", kind: "open" }]);
    expect(holders.has("l3")).toBe(false);
  });
});

describe("activityOf and sameActivity", () => {
  it.each([
    [null, null, null],
    ["a", null, { leadId: "a", kind: "open" }],
    [null, "b", { leadId: "b", kind: "drag" }],
    ["a", "b", { leadId: "b", kind: "drag" }],
  ] as const)("open %s, drag %s → %j", (open, drag, expected) => {
    expect(activityOf(open, drag)).toEqual(expected);
  });
  it("compares by value", () => {
    expect(sameActivity(null, null)).toBe(true);
    expect(sameActivity({ leadId: "a", kind: "open" }, { leadId: "a", kind: "open" })).toBe(true);
    expect(sameActivity({ leadId: "a", kind: "open" }, { leadId: "a", kind: "drag" })).toBe(false);
    expect(sameActivity({ leadId: "a", kind: "open" }, null)).toBe(false);
  });
});

describe("avatar text", () => {
  it.each([
    ["Mia Wong", "MW"],
    ["mia", "M"],
    ["  Ana  de la Cruz ", "AC"],
    ["élodie brun", "ÉB"],
    ["", "?"],
  ])("initials(%j) = %s", (name, expected) => {
    expect(initials(name)).toBe(expected);
  });
  it("gives one person the same colour everywhere, and different people usually different ones", () => {
    expect(avatarColor("user-1")).toBe(avatarColor("user-1"));
    expect(avatarColor("user-1")).toMatch(/^hsl\(\d{1,3} 55% 38%\)$/);
    const hues = new Set(["a", "b", "c", "d", "e", "f"].map((id) => avatarColor(`user-${id}`)));
    expect(hues.size).toBeGreaterThan(3);
  });
  it("names the role and the tabs", () => {
    expect(roleLabel("sales_manager")).toBe("Sales manager");
    expect(viewerText({ ...entry("a", "Mia Wong", [], 2), role: "salesperson", self: false })).toBe("Mia Wong, Salesperson (2 tabs)");
    expect(viewerText({ ...entry("me", "Me"), self: true })).toBe("Me (you), Telemarketer");
  });
});

describe("holderText", () => {
  const h = (name: string, kind: LeadHolder["kind"]): LeadHolder => ({ userId: name, name, kind });
  it.each([
    [[h("Mia", "drag")], "Mia is dragging"],
    [[h("Mia", "open")], "Mia has it open"],
    [[h("Mia", "open"), h("Leo", "open")], "Mia and Leo have it open"],
    [[h("Mia", "open"), h("Leo", "open"), h("Ana", "open")], "Mia, Leo and Ana have it open"],
    [[h("Leo", "open"), h("Mia", "drag")], "Mia is dragging, Leo has it open"],
    [[], ""],
  ])("%j → %s", (holders, expected) => {
    expect(holderText(holders)).toBe(expected);
  });
});
