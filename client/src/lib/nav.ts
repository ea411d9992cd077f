/**
 * The pages of the app and who sees them. Pure: the router and the top nav read it.
 */
import { can, type Action } from "../../../shared/domain/permissions.ts";
import type { Role } from "../../../shared/schemas/common.ts";

export const pages = [
  "board",
  "leads",
  "forms",
  "events",
  "linkedin",
  "matching",
  "processes",
  "segments",
  "scoring",
  "imports",
  "users",
  "api-keys",
  "displays",
  "audit",
] as const;
export type Page = (typeof pages)[number];

export interface NavItem {
  page: Page;
  label: string;
  /** The permission a role needs to see the page; none means every signed-in user. */
  action?: Action;
}

export const navItems: readonly NavItem[] = [
  { page: "board", label: "Board" },
  { page: "leads", label: "Leads & contacts" },
  { page: "forms", label: "Forms", action: "form.manage" },
  { page: "events", label: "Events", action: "event.manage" },
  { page: "linkedin", label: "LinkedIn", action: "form.manage" },
  { page: "matching", label: "Matching", action: "strategy.manage" },
  { page: "processes", label: "Processes", action: "process.manage" },
  { page: "segments", label: "Segments", action: "segment.manage" },
  { page: "scoring", label: "Scoring models", action: "model.view" },
  { page: "imports", label: "Imports", action: "import.run" },
  { page: "users", label: "Users", action: "user.manage" },
  { page: "api-keys", label: "API keys", action: "api_key.manage" },
  { page: "displays", label: "Wall displays", action: "display_token.manage" },
  { page: "audit", label: "Audit log", action: "audit.view" },
];

export function visibleNav(role: Role): NavItem[] {
  return navItems.filter((item) => !item.action || can(role, item.action));
}

export function mayOpen(role: Role, page: Page): boolean {
  return visibleNav(role).some((item) => item.page === page);
}

export interface Route {
  page: Page;
  /** What follows the page in the hash, e.g. "contact/<id>" in "#/leads/contact/<id>"; "" when nothing. */
  rest: string;
}

const isPage = (text: string): text is Page => (pages as readonly string[]).includes(text);

/** "#/forms" → forms; "", "#", "#/" and anything unknown → the board. */
export function parseHash(hash: string): Route {
  const path = hash.replace(/^#\/?/, "");
  const [head = "", ...rest] = path.split("/");
  if (!isPage(head)) return { page: "board", rest: "" };
  return { page: head, rest: rest.map((part) => decodeURIComponent(part)).join("/") };
}

export function hashFor(page: Page, rest = ""): string {
  const tail = rest ? `/${rest.split("/").map(encodeURIComponent).join("/")}` : "";
  return `#/${page}${tail}`;
}
