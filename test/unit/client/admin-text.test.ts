import { describe, expect, it } from "vitest";
import { auditActions, type AuditEntry } from "../../../shared/schemas/audit.ts";
import { auditActionLabels, auditDetailsText, auditSentence, userStatus, wallViews } from "../../../client/src/lib/admin-text.ts";
import { listOf, oneOf } from "../../../client/src/lib/admin-users-api.ts";

const entry = (over: Partial<AuditEntry> = {}): AuditEntry => ({
  id: "e1",
  at: "2025-03-03T10:00:00.000Z",
  actor: { id: "a1", name: "Ada Admin", kind: "user" },
  action: "user.role_changed",
  target: { type: "user", id: "u1", name: "Mia Marketer" },
  details: { from: "viewer", to: "sales_manager" },
  ...over,
});

describe("user status", () => {
  it.each([
    [{ active: true, invitePending: false }, "active"],
    [{ active: true, invitePending: true }, "invited"],
    [{ active: false, invitePending: false }, "deactivated"],
    [{ active: false, invitePending: true }, "deactivated"],
  ] as const)("%o is %s", (user, status) => {
    expect(userStatus(user)).toBe(status);
  });
});

describe("audit entries in words", () => {
  it("every action has a label", () => {
    for (const action of auditActions) expect(auditActionLabels[action]).toMatch(/^[A-Z]/);
  });

  it("reads as a sentence: actor, what they did, to whom", () => {
    expect(auditSentence(entry())).toBe("Ada Admin changed the role of Mia Marketer");
    expect(auditSentence(entry({ action: "api_key.created", target: { type: "api_key", id: "k1", name: "CRM sync" } }))).toBe(
      "Ada Admin created the API key CRM sync",
    );
  });

  it("a target without a name is named by its kind and the start of its id", () => {
    const text = auditSentence(entry({ action: "display_token.revoked", target: { type: "display_token", id: "0123456789abcdef", name: null } }));
    expect(text).toBe("Ada Admin revoked the wall display #01234567");
    const invited = auditSentence(entry({ action: "user.invited", target: { type: "user", id: "0123456789abcdef", name: null } }));
    expect(invited).toBe("Ada Admin invited user #01234567");
  });

  it("someone accepting their own invitation is named once", () => {
    const accepted = entry({ action: "user.invite_accepted", actor: { id: "u1", name: "Mia", kind: "user" }, target: { type: "user", id: "u1", name: "Mia" } });
    expect(auditSentence(accepted)).toBe("Mia accepted their invitation");
  });

  it.each([
    [{ from: "viewer", to: "sales_manager" }, "from viewer to sales manager"],
    [{ scopes: ["ingest", "read"] }, "scopes: ingest, read"],
    [{ skippedGates: ["sales_ready"], reason: "customer called" }, "skipped gates: sales ready; reason: customer called"],
    [{ screens: 2, sound: false }, "screens: 2; sound: false"],
    [{ to: "marketer" }, "from none to marketer"],
    [{ nested: { a: 1, deep: [] } }, "nested: (a 1, deep none)"],
    [{}, ""],
  ] as const)("details %o read as %s", (details, text) => {
    expect(auditDetailsText(details as Record<string, unknown>)).toBe(text);
  });

  it("a moment reads in local time, not as an ISO string", () => {
    const at = "2025-03-10T09:30:00.000Z";
    expect(auditDetailsText({ expiresAt: at })).toBe(`expires at: ${new Date(at).toLocaleString()}`);
  });

  it("markup in details stays text for the page to escape", () => {
    expect(auditDetailsText({ name: "<img src=x onerror=alert(1)>" })).toBe("name: <img src=x onerror=alert(1)>");
  });
});

describe("wall views", () => {
  it("leave out My leads (nobody is signed in on a wall)", () => {
    expect(wallViews).toEqual(["all", "teleprospecting_queue", "sales_ready"]);
  });
});

describe("list and record answers", () => {
  it("accept an array or an object holding it", () => {
    expect(listOf([1, 2], "users")).toEqual([1, 2]);
    expect(listOf({ users: [3] }, "users")).toEqual([3]);
    expect(listOf({ other: [3] }, "users")).toEqual([]);
    expect(listOf(null, "users")).toEqual([]);
    expect(oneOf({ user: { id: "u" } }, "user")).toEqual({ id: "u" });
    expect(oneOf({ id: "u" }, "user")).toEqual({ id: "u" });
    expect(oneOf(undefined, "user")).toBeNull();
  });
});
