import { describe, expect, it } from "vitest";
import { roles, type Role } from "../../../shared/schemas/common.ts";
import { hashFor, mayOpen, navItems, pages, parseHash, visibleNav } from "../../../client/src/lib/nav.ts";

const adminPages = ["users", "api-keys", "displays", "audit"] as const;

describe("the administration pages in the nav", () => {
  it.each(roles.map((role) => [role] as [Role]))("%s sees them only as an admin", (role) => {
    const shown = visibleNav(role).map((item) => item.page);
    for (const page of adminPages) {
      expect(shown.includes(page)).toBe(role === "admin");
      expect(mayOpen(role, page)).toBe(role === "admin");
    }
  });

  it("names the permission each page needs", () => {
    const needs = Object.fromEntries(navItems.map((item) => [item.page, item.action]));
    expect(needs).toMatchObject({
      users: "user.manage",
      "api-keys": "api_key.manage",
      displays: "display_token.manage",
      audit: "audit.view",
    });
  });

  it("a salesperson and a viewer see only the board and the leads", () => {
    expect(visibleNav("salesperson").map((i) => i.page)).toEqual(["board", "leads"]);
    expect(visibleNav("viewer").map((i) => i.page)).toEqual(["board", "leads"]);
  });

  it("every page has one nav item, and the hash of each page reads back as that page", () => {
    expect(navItems.map((i) => i.page).sort()).toEqual([...pages].sort());
    for (const page of pages) expect(parseHash(hashFor(page))).toEqual({ page, rest: "" });
    expect(parseHash("#/api-keys")).toEqual({ page: "api-keys", rest: "" });
    expect(parseHash("#/api_keys")).toEqual({ page: "board", rest: "" });
  });
});
