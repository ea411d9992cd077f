/**
 * Presence as a pure function of the sockets on a board: who is there (one entry per
 * person, however many tabs) and which leads they hold, and what of it each view may see.
 * No I/O; the socket layer gathers the sockets from every node and sends the result.
 */
import type { BoardStage, LeadCard } from "../../shared/board.ts";
import { leadInView, type BoardView } from "../../shared/domain/views.ts";
import type { BoardPresence, PresenceActivity, PresenceEntry } from "../../shared/presence.ts";
import type { Actor } from "./actor.ts";

/** What presence needs to know of one connection (a local socket or one on another node). */
export interface PresenceConnection {
  actor: Actor;
  activity: PresenceActivity | null;
}

/** Same activity, same key: a lead open in two tabs of one person is listed once. */
const activityKey = (a: PresenceActivity) => `${a.leadId}:${a.kind}`;

export function aggregatePresence(boardId: string, connections: readonly PresenceConnection[]): BoardPresence {
  const byUser = new Map<string, PresenceEntry & { seen: Set<string> }>();
  for (const { actor, activity } of connections) {
    // Only people count: API keys and the system have no socket, and no id means no person.
    if (actor.kind !== "user" || !actor.id) continue;
    let entry = byUser.get(actor.id);
    if (!entry) {
      entry = { userId: actor.id, name: actor.name, role: actor.role, connections: 0, activities: [], seen: new Set() };
      byUser.set(actor.id, entry);
    }
    entry.connections++;
    if (activity && !entry.seen.has(activityKey(activity))) {
      entry.seen.add(activityKey(activity));
      entry.activities.push({ leadId: activity.leadId, kind: activity.kind });
    }
  }
  // A stable order, so two nodes (and two flushes) describe the same presence with the same bytes.
  const viewers = [...byUser.values()]
    .map(({ seen: _seen, ...entry }) => ({
      ...entry,
      activities: entry.activities.sort((a, b) => activityKey(a).localeCompare(activityKey(b))),
    }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId));
  return { boardId, viewers };
}

/** What presence filtering needs of a held lead: where it is and whose it is. */
export type HeldLead = Pick<LeadCard, "stage" | "salesReady" | "ownerId">;

/**
 * The presence one viewer may see: everyone on the board, but only the held leads that are
 * in the viewer's view (a salesperson on "Sales-ready" learns nothing about other leads,
 * not even their ids). A lead that is not on the board (or no longer open) is left out.
 */
export function presenceForViewer(
  presence: BoardPresence,
  held: ReadonlyMap<string, HeldLead>,
  stages: ReadonlyArray<Pick<BoardStage, "key" | "entryRequirements">>,
  view: BoardView,
  userId: string | null,
): BoardPresence {
  const visible = (leadId: string) => {
    const lead = held.get(leadId);
    return lead !== undefined && leadInView(view, lead, stages, userId);
  };
  return {
    boardId: presence.boardId,
    viewers: presence.viewers.map((v) => ({ ...v, activities: v.activities.filter((a) => visible(a.leadId)) })),
  };
}

/** The lead ids anyone holds on the board. */
export function heldLeadIds(presence: BoardPresence): string[] {
  return [...new Set(presence.viewers.flatMap((v) => v.activities.map((a) => a.leadId)))];
}
