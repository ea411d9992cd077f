/**
 * Pure presence helpers for the client: who to show, who holds which lead, and how to say it.
 */
import type { LeadHolder, PresenceActivity, PresenceEntry } from "../../../shared/presence.ts";
import type { Role } from "../../../shared/schemas/common.ts";

/** A person on the board as the avatars show them; `self` marks the signed-in user. */
export interface PresenceViewer extends PresenceEntry {
  self: boolean;
}

/** Others first (in the server's order, by name), the signed-in user last. */
export function orderViewers(entries: readonly PresenceEntry[], selfId: string): PresenceViewer[] {
  const others = entries.filter((e) => e.userId !== selfId).map((e) => ({ ...e, self: false }));
  const self = entries.filter((e) => e.userId === selfId).map((e) => ({ ...e, self: true }));
  return [...others, ...self];
}

/**
 * Lead id → the other people holding it, one per person: dragging wins over having it
 * open (two tabs of one person may do both). The signed-in user never locks themselves out.
 */
export function holdersByLead(entries: readonly PresenceEntry[], selfId: string): Map<string, LeadHolder[]> {
  const byLead = new Map<string, LeadHolder[]>();
  for (const entry of entries) {
    if (entry.userId === selfId) continue;
    for (const activity of entry.activities) {
      const holders = byLead.get(activity.leadId) ?? [];
      const existing = holders.find((h) => h.userId === entry.userId);
      if (existing) {
        if (activity.kind === "drag") existing.kind = "drag";
      } else {
        holders.push({ userId: entry.userId, name: entry.name, kind: activity.kind });
      }
      byLead.set(activity.leadId, holders);
    }
  }
  return byLead;
}

/** What one connection is doing: a drag in progress wins over the open drawer. */
export function activityOf(openLeadId: string | null, dragLeadId: string | null): PresenceActivity | null {
  if (dragLeadId) return { leadId: dragLeadId, kind: "drag" };
  if (openLeadId) return { leadId: openLeadId, kind: "open" };
  return null;
}

export function sameActivity(a: PresenceActivity | null, b: PresenceActivity | null): boolean {
  return a === b || (a !== null && b !== null && a.leadId === b.leadId && a.kind === b.kind);
}

/** "Mia Wong" → "MW", "mia" → "M"; never empty. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = words[0]!;
  const last = words.length > 1 ? words[words.length - 1]! : "";
  return (Array.from(first)[0]! + (last ? Array.from(last)[0]! : "")).toUpperCase();
}

/** A colour per person, the same on every screen: a hue from the user id, dark enough for white text. */
export function avatarColor(userId: string): string {
  let hash = 0;
  for (let i = 0; i < userId.length; i++) hash = (hash * 31 + userId.charCodeAt(i)) >>> 0;
  return `hsl(${hash % 360} 55% 38%)`;
}

export function roleLabel(role: Role): string {
  const text = role.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The avatar's tooltip and accessible name: "Mia Wong, Salesperson (2 tabs)". */
export function viewerText(viewer: PresenceViewer): string {
  const tabs = viewer.connections > 1 ? ` (${viewer.connections} tabs)` : "";
  return `${viewer.name}${viewer.self ? " (you)" : ""}, ${roleLabel(viewer.role)}${tabs}`;
}

function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** "Mia is dragging", "Mia and Leo have it open", "Mia is dragging, Leo has it open". */
export function holderText(holders: readonly LeadHolder[]): string {
  const dragging = holders.filter((h) => h.kind === "drag").map((h) => h.name);
  const open = holders.filter((h) => h.kind === "open").map((h) => h.name);
  const parts: string[] = [];
  if (dragging.length > 0) parts.push(`${listNames(dragging)} ${dragging.length === 1 ? "is" : "are"} dragging`);
  if (open.length > 0) parts.push(`${listNames(open)} ${open.length === 1 ? "has" : "have"} it open`);
  return parts.join(", ");
}
