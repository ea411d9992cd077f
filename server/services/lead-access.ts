import { gatesRefused, gateRefusedMessage, stageWorkProblem, type StageLike } from "../../shared/domain/role-rules.ts";
import { canSeeLead } from "../../shared/domain/permissions.ts";
import type { LeadFlag, RequirementKey } from "../../shared/domain/stages.ts";
import { DomainError } from "../../shared/errors.ts";
import type { Executor } from "../db/client.ts";
import { insertAudit } from "../repositories/audit.ts";
import type { Actor } from "./actor.ts";

/**
 * The checks that depend on which lead, gate or stage (shared/domain/role-rules.ts), as the
 * services throw them. The route or command guard has already checked the action itself.
 */

/**
 * A lead the actor may not see does not exist for them: NOT_FOUND, exactly as for an
 * unknown id, so neither reads nor commands reveal it (or its version, as CONFLICT would).
 * Check it before anything else that looks at the lead.
 */
export function requireVisibleLead(actor: Actor, lead: { salesReady: boolean; ownerId: string | null }): void {
  if (!canSeeLead(actor, lead)) throw new DomainError("NOT_FOUND", "No such lead");
}

/** Stage-bound roles (telemarketers) move and tick only where they work. */
export function requireStageWork(actor: Actor, from: StageLike, to: StageLike | null): void {
  const problem = stageWorkProblem(actor, from, to);
  if (problem) throw new DomainError("FORBIDDEN", problem, { stage: (to ?? from).key });
}

/** Each gate ticked (or unticked) needs its own gate action; FORBIDDEN names the first refused. */
export function requireGates(actor: Actor, flags: readonly LeadFlag[]): void {
  const [refused] = gatesRefused(actor, flags);
  if (refused) throw new DomainError("FORBIDDEN", gateRefusedMessage(actor, refused), { gate: refused });
}

/** An override that skipped something is audited, in the transaction of the move itself. */
export async function auditOverride(
  tx: Executor,
  actor: Actor,
  lead: { id: string; topic: string },
  move: { fromStage: string; toStage: string; missing: readonly RequirementKey[] },
  now: Date,
): Promise<void> {
  await insertAudit(tx, {
    actor,
    action: "lead.gate_overridden",
    target: { type: "lead", id: lead.id, name: lead.topic },
    details: { fromStage: move.fromStage, toStage: move.toStage, missing: [...move.missing] },
    at: now,
  });
}
