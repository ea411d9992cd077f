/**
 * The permission rules that depend on which lead, which gate and which stage: the row- and
 * body-dependent half of the one mechanism, next to the matrix (permissions.ts) and built
 * only from it (`principalCan`, `gateAction`, `canSeeLead`). Pure, so the client can use the
 * same rules to hide what would be refused; the services are the authority.
 */
import type { Role } from "../schemas/common.ts";
import { canSeeLead, gateAction, principalCan, type Principal } from "./permissions.ts";
import {
  checkTransition,
  meetsRequirement,
  requirementLabels,
  type LeadFacts,
  type LeadFlag,
  type RequirementKey,
  type StageRule,
} from "./stages.ts";
import { isTeleprospectingStage } from "./views.ts";

/** Who asks about a lead: a principal with the user id that may own leads (null for keys and the system). */
export type LeadViewer = Principal & { id: string | null };

/**
 * `canSeeLead` in the form a query can apply: every lead, or sales-ready ones and those the
 * viewer owns. Derived from `canSeeLead` itself (a viewer who may not see an unowned lead
 * that is not sales-ready is limited), so a list filtered in SQL cannot drift from the
 * per-lead rule; test/unit/role-rules.test.ts checks both agree for every role.
 */
export type LeadScope = { kind: "all" } | { kind: "sales_ready_or_owned"; ownerId: string | null };

export function leadScope(viewer: LeadViewer): LeadScope {
  if (canSeeLead(viewer, { salesReady: false, ownerId: null })) return { kind: "all" };
  return { kind: "sales_ready_or_owned", ownerId: viewer.id };
}

/** A stage as far as these rules look at it. */
export type StageLike = Pick<StageRule, "key" | "name" | "entryRequirements">;

/**
 * Roles whose hands-on work is bound to some stages (domain.md: telemarketers work the
 * teleprospecting stages). Each of their moves and gate ticks must start or end in one.
 */
const stageBoundRoles: Partial<Record<Role, { rule: string; works: (stage: StageLike) => boolean }>> = {
  telemarketer: {
    rule: "Telemarketers work the teleprospecting stages: a move or gate of theirs must start or end in one",
    works: isTeleprospectingStage,
  },
};

/**
 * Why `principal` may not take a lead from `from` to `to` (null: it may). `to` is null for a
 * gate tick that leads nowhere: then the lead's own stage must be one the role works. A
 * move within one column (a reorder) is judged like any other: `from` and `to` the same.
 * Only people are stage-bound: keys and the system act under their own rules.
 */
export function stageWorkProblem(principal: Principal, from: StageLike, to: StageLike | null): string | null {
  if (principal.kind !== "user") return null;
  const bound = stageBoundRoles[principal.role];
  if (!bound || bound.works(from) || (to !== null && bound.works(to))) return null;
  const where = to === null || to.key === from.key ? `in ${from.name}` : `from ${from.name} to ${to.name}`;
  return `${bound.rule} (not ${where})`;
}

/** The gates among `flags` that `principal` may not tick (or untick), in order. */
export function gatesRefused(principal: Principal, flags: readonly LeadFlag[]): LeadFlag[] {
  return flags.filter((flag) => !principalCan(principal, gateAction(flag)));
}

export function gateRefusedMessage(principal: Principal, flag: LeadFlag): string {
  const who = principal.kind === "api" ? "This API key" : `A ${principal.role}`;
  return `${who} may not tick or untick the gate "${requirementLabels[flag]}" (${gateAction(flag)})`;
}

/** What a move will do, or why it may not happen. */
export type MovePlan =
  | {
      allowed: true;
      /** Flags the move ticks as it passes their gates (each one the mover may tick). */
      ticks: LeadFlag[];
      /** Entry requirements of the target an override skipped: non-empty only for an override that mattered. */
      skipped: RequirementKey[];
    }
  | { allowed: false; code: "ILLEGAL_TRANSITION"; missing: RequirementKey[]; message: string }
  | { allowed: false; code: "FORBIDDEN"; gate: LeadFlag; message: string };

/**
 * A move checked against the process and the mover's gates. Without an override, the
 * target's requirements must hold counting the flags the drag ticks, and the mover must be
 * allowed to tick each of them: FORBIDDEN names the first gate they may not. With an
 * override (whose permission the caller has checked), the gates are skipped instead: the
 * drag still ticks what the mover may tick, and anything else the target needs, including
 * a gate the mover may not tick, is `skipped` (what the audit entry records).
 */
export function planMove(principal: Principal, lead: LeadFacts, from: StageRule, to: StageRule, override: boolean): MovePlan {
  const plain = checkTransition(lead, from, to);
  if (!override) {
    if (!plain.allowed) return { allowed: false, code: "ILLEGAL_TRANSITION", missing: plain.missing, message: plain.message };
    const [refused] = gatesRefused(principal, plain.ticks);
    if (refused) return { allowed: false, code: "FORBIDDEN", gate: refused, message: gateRefusedMessage(principal, refused) };
    return { allowed: true, ticks: plain.ticks, skipped: [] };
  }
  const forced = checkTransition(lead, from, to, true);
  if (!forced.allowed || forced.direction !== "forward") return { allowed: true, ticks: [], skipped: [] };
  const refused = new Set(gatesRefused(principal, forced.ticks));
  const ticks = forced.ticks.filter((flag) => !refused.has(flag));
  const ticked = new Set<RequirementKey>(ticks);
  const skipped = to.entryRequirements.filter((r) => !meetsRequirement(lead, r) && !ticked.has(r));
  return { allowed: true, ticks, skipped };
}
