import { commandAccess, type CommandName } from "../../server/socket/commands.ts";
import type { Action } from "../../shared/domain/permissions.ts";
import { principalMay, type MatrixPrincipal } from "./matrix-principals.ts";
import { defaultBoardId, defaultProcessId, type MatrixContext } from "./matrix-world.ts";
import type { Documented } from "./route-fixtures.ts";
import { preparedMove } from "./route-fixtures-leads.ts";
import { request, type TestSocket } from "./server.ts";

/**
 * One fixture per socket command of server/socket/commands.ts commandAccess: a valid
 * payload for any principal, and what the socket must have done first (join the board).
 * A wall display watches the one screen its token names: the default board, view "all".
 */
export interface CommandFixture {
  /** Runs before the state is fingerprinted, only for principals that may view boards. */
  before?(ctx: MatrixContext, socket: TestSocket, who: MatrixPrincipal): Promise<void>;
  prepare(ctx: MatrixContext, who: MatrixPrincipal): Promise<unknown>;
  documented?(who: MatrixPrincipal): Documented | undefined;
}

/** The join a principal makes: a display names its screen's board and view. */
export function joinPayload(who: MatrixPrincipal): Record<string, unknown> {
  return who.spec.kind === "display" ? { processId: defaultProcessId, view: "all" } : {};
}

async function joined(_ctx: MatrixContext, socket: TestSocket, who: MatrixPrincipal): Promise<void> {
  const ack = await request(socket, "board:join", joinPayload(who));
  if (!ack.ok) throw new Error(`setup: board:join as ${who.spec.name} failed: ${JSON.stringify(ack.error)}`);
}

const startOfDay = () => {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  return d;
};

export const commandFixtures: Record<string, CommandFixture> = {
  "board:join": { prepare: async (_ctx, who) => ({ ...joinPayload(who), pageSize: 20 }) },
  "board:resync": {
    prepare: async (ctx, who) => ({
      boardId: defaultBoardId,
      sinceSeq: Math.max(0, (await ctx.boardSeq()) - 3),
      ...(who.spec.kind === "display" ? { view: "all" } : {}),
    }),
  },
  "board:page": {
    before: joined,
    prepare: async () => ({ boardId: defaultBoardId, stage: "sales_acceptance", limit: 10 }),
  },
  "board:activity": { before: joined, prepare: async () => ({ boardId: defaultBoardId, limit: 5 }) },
  "wall:figures": {
    before: joined,
    documented: (who) =>
      who.spec.kind === "user" && who.spec.role === "salesperson"
        ? { status: 403, code: "FORBIDDEN", why: "board-wide figures count leads a salesperson may not see" }
        : undefined,
    prepare: async () => {
      const day = startOfDay();
      const week = new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * 86_400_000);
      return { boardId: defaultBoardId, dayStart: day.toISOString(), weekStart: week.toISOString() };
    },
  },
  "lead:move": {
    prepare: async (ctx, who) => {
      const { lead, toStage } = await preparedMove(ctx, who);
      return { leadId: lead.id, toStage, expectedVersion: lead.version };
    },
  },
  "presence:set": {
    before: joined,
    prepare: async (ctx) => ({ boardId: defaultBoardId, activity: { leadId: ctx.world.visibleLeadId, kind: "open" } }),
  },
};

export const commandNames = Object.keys(commandAccess) as CommandName[];

export function commandAction(name: string): Action {
  return (commandAccess as Record<string, Action>)[name]!;
}

export function commandCoverage(): { commandsWithoutFixture: string[]; fixturesWithoutCommand: string[] } {
  const fixtures = Object.keys(commandFixtures);
  return {
    commandsWithoutFixture: commandNames.filter((n) => !fixtures.includes(n)),
    fixturesWithoutCommand: fixtures.filter((n) => !(n in commandAccess)),
  };
}

/** Whether the fixture's preparation (a join) applies: only principals that may view boards can join. */
export const mayJoin = (who: MatrixPrincipal) => principalMay(who.spec, "board.view");
