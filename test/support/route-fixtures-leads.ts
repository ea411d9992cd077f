import { gateAction } from "../../shared/domain/permissions.ts";
import { leadFlags, type LeadFlag } from "../../shared/domain/stages.ts";
import { principalMay, type MatrixPrincipal } from "./matrix-principals.ts";
import type { BuiltLead, LeadSpec, MatrixContext } from "./matrix-world.ts";
import type { Documented, RouteFixture } from "./route-fixtures.ts";

/**
 * Leads and their life. Each allowed principal gets a fresh lead it may work: salespeople
 * their own sales-ready lead, telemarketers one in a teleprospecting stage (they work
 * those), sales managers one in sales acceptance, everyone else one in marketing.
 */
type Worker = "salesperson" | "telemarketer" | "sales_manager" | "other";

function workerOf(who: MatrixPrincipal): Worker {
  const role = who.spec.kind === "user" ? who.spec.role : undefined;
  return role === "salesperson" || role === "telemarketer" || role === "sales_manager" ? role : "other";
}

const salespersonId = (ctx: MatrixContext) => ctx.principals.salesperson.userId;

function homeSpec(ctx: MatrixContext, who: MatrixPrincipal): LeadSpec {
  switch (workerOf(who)) {
    case "salesperson":
      return { stage: "sales_acceptance", salesReady: true, ownerId: who.userId };
    case "telemarketer":
      return { stage: "teleprospecting_acceptance", readyForTeleprospecting: true };
    case "sales_manager":
      return { stage: "sales_acceptance", salesReady: true, ownerId: salespersonId(ctx) };
    case "other":
      return { stage: "automated_marketing_qualification" };
  }
}

const homeLead = (ctx: MatrixContext, who: MatrixPrincipal) => ctx.lead(homeSpec(ctx, who));

/** A legal move for each worker: one it may make, through gates it may tick. */
function movePlan(ctx: MatrixContext, who: MatrixPrincipal): { from: LeadSpec; toStage: string } {
  switch (workerOf(who)) {
    case "salesperson":
      // Their column is the last one: a reorder within it.
      return { from: homeSpec(ctx, who), toStage: "sales_acceptance" };
    case "telemarketer":
      return { from: homeSpec(ctx, who), toStage: "teleprospecting_qualification" };
    case "sales_manager":
      return {
        from: { stage: "teleprospecting_qualification", readyForTeleprospecting: true, teleprospectingAccepted: true },
        toStage: "sales_acceptance",
      };
    case "other":
      return { from: { stage: "inquiry" }, toStage: "automated_marketing_qualification" };
  }
}

/** A move of a fresh lead; shared with the socket's `lead:move`. */
export async function preparedMove(ctx: MatrixContext, who: MatrixPrincipal): Promise<{ lead: BuiltLead; toStage: string }> {
  const plan = movePlan(ctx, who);
  return { lead: await ctx.lead(plan.from), toStage: plan.toStage };
}

/** A gate the principal may tick, on a lead where ticking it is legal. */
function flagPlan(ctx: MatrixContext, who: MatrixPrincipal): { lead: LeadSpec; flag: LeadFlag } {
  switch (workerOf(who)) {
    case "salesperson":
    case "sales_manager":
      return { lead: homeSpec(ctx, who), flag: "sales_accepted" };
    case "telemarketer":
      return { lead: homeSpec(ctx, who), flag: "teleprospecting_accepted" };
    case "other":
      return { lead: { stage: "automated_marketing_qualification" }, flag: "ready_for_teleprospecting" };
  }
}

/** Lead editing without any gate (an API key with "write"): every gate checkbox is refused. */
function noGateDocumented(who: MatrixPrincipal): Documented | undefined {
  if (leadFlags.some((flag) => principalMay(who.spec, gateAction(flag)))) return undefined;
  return { status: 403, code: "FORBIDDEN", why: "each gate needs its own gate action, and this principal has none" };
}

function stageFieldsPlan(ctx: MatrixContext, who: MatrixPrincipal): { lead: LeadSpec; values: Record<string, unknown> } {
  switch (workerOf(who)) {
    case "salesperson":
    case "sales_manager":
      return { lead: homeSpec(ctx, who), values: { estimated_value: 1000 } };
    case "telemarketer":
      return { lead: homeSpec(ctx, who), values: { meets_minimum_criteria: true } };
    case "other":
      return {
        lead: { stage: "teleprospecting_qualification", readyForTeleprospecting: true, teleprospectingAccepted: true },
        values: { call_notes: "Called, promising" },
      };
  }
}

const withLead = (lead: BuiltLead, body: Record<string, unknown>) => ({
  params: { id: lead.id },
  body: { ...body, expectedVersion: lead.version },
});

export const leadRouteFixtures: Record<string, RouteFixture> = {
  "GET /api/leads": { prepare: async () => ({ query: { limit: "20" } }) },
  "POST /api/leads": {
    prepare: async (ctx) => ({ body: { topic: ctx.unique("New lead"), contactId: ctx.world.contactId } }),
  },
  "GET /api/leads/:id": { prepare: async (ctx) => ({ params: { id: ctx.world.visibleLeadId } }) },
  "PATCH /api/leads/:id": {
    prepare: async (ctx, who) => withLead(await homeLead(ctx, who), { topic: ctx.unique("Renamed lead") }),
  },
  "POST /api/leads/:id/move": {
    prepare: async (ctx, who) => {
      const { lead, toStage } = await preparedMove(ctx, who);
      return withLead(lead, { toStage });
    },
  },
  "GET /api/leads/:id/scores": { prepare: async (ctx) => ({ params: { id: ctx.world.visibleLeadId } }) },
  "POST /api/leads/:id/flags": {
    prepare: async (ctx, who) => {
      const plan = flagPlan(ctx, who);
      return withLead(await ctx.lead(plan.lead), { flag: plan.flag, value: true });
    },
    documented: noGateDocumented,
  },
  "POST /api/leads/:id/assign": {
    prepare: async (ctx, who) => {
      const spec: LeadSpec =
        workerOf(who) === "telemarketer" ? homeSpec(ctx, who) : { stage: "sales_acceptance", salesReady: true };
      return withLead(await ctx.lead(spec), { ownerId: salespersonId(ctx) });
    },
  },
  "POST /api/leads/:id/stage-fields": {
    prepare: async (ctx, who) => {
      const plan = stageFieldsPlan(ctx, who);
      return withLead(await ctx.lead(plan.lead), { values: plan.values });
    },
  },
  "POST /api/leads/:id/convert": {
    prepare: async (ctx, who) => {
      const ownerId = workerOf(who) === "salesperson" ? who.userId : salespersonId(ctx);
      const lead = await ctx.lead({ stage: "sales_acceptance", salesReady: true, salesAccepted: true, ownerId });
      return withLead(lead, { estimatedValue: 5000 });
    },
  },
  "POST /api/leads/:id/disqualify": {
    prepare: async (ctx, who) => withLead(await homeLead(ctx, who), { reason: "No budget" }),
  },
  "POST /api/leads/:id/reopen": {
    prepare: async (ctx, who) => {
      const lead = await homeLead(ctx, who);
      const closed = await ctx.server.app.services.lifecycle.disqualify(
        ctx.adminActor,
        lead.id,
        { reason: "Not now", expectedVersion: lead.version },
        new Date(),
      );
      return withLead(closed, { note: "Back in play" });
    },
  },
  "POST /api/leads/:id/process": {
    prepare: async (ctx, who) => withLead(await homeLead(ctx, who), { processId: ctx.world.otherProcessId }),
  },
};
