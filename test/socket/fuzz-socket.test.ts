import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { errorStatus } from "../../shared/errors.ts";
import { commandFixtures, commandNames } from "../support/command-fixtures.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { connectOrRefusal, socketFor } from "../support/matrix-principals.ts";
import { buildMatrixContext, defaultBoardId, type MatrixContext } from "../support/matrix-world.ts";
import { fixedPayloads, payloadMutations, rawCommand, type PayloadVariant } from "../support/raw-socket.ts";
import { request, startTestServer, until, type TestServer, type TestSocket } from "../support/server.ts";
import { changedTables, stateFingerprint } from "../support/state-fingerprint.ts";

/**
 * Every socket command, fed malformed payloads as raw Socket.IO frames by an admin (who may
 * send them all, so they reach validation). Every frame is acknowledged in the contract's
 * shape, never INTERNAL; a refused command changes nothing; the server never drops the
 * connection; and it still answers a valid command and /healthz afterwards.
 */
const numRuns = Number(process.env.FUZZ_RUNS ?? 25);
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

/** Why an acknowledgement is not `{ok: true, data}` or `{ok: false, error: {code, message}}` (null when it is). */
function ackProblem(ack: unknown): string | null {
  if (ack === null || typeof ack !== "object") return "not an object";
  const { ok, error } = ack as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  if (ok === true) return "data" in ack ? null : "ok without data";
  if (ok !== false || !error) return "neither ok nor an error";
  if (typeof error.code !== "string" || !(error.code in errorStatus)) return `unknown code ${String(error.code)}`;
  if (typeof error.message !== "string") return "error without a message";
  return error.code === "INTERNAL" ? "INTERNAL" : null;
}

describe.each(drivers)("fuzzing every socket command on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let ctx: MatrixContext;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database, undefined, {
      deps: { scoring: { autoStart: false }, security: { commandRate: { perSecond: 100_000, burst: 100_000 } } },
    });
    ctx = await buildMatrixContext(server, t);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  /** The admin's connection, and whether the server has dropped it. */
  async function adminSocket() {
    const socket = socketFor(server, ctx.admin.credentials);
    sockets.push(socket);
    expect(await connectOrRefusal(socket)).toEqual({ connected: true });
    const state = { endedBy: "" };
    socket.on("disconnect", (reason) => {
      state.endedBy = reason;
    });
    return { socket, state };
  }

  it.each(commandNames)("%s", async (command) => {
    const fixture = commandFixtures[command];
    if (!fixture) throw new Error(`no fixture for ${command}`);
    const { socket, state } = await adminSocket();
    await fixture.before?.(ctx, socket, ctx.admin);
    const payload = await fixture.prepare(ctx, ctx.admin);

    const check = async (v: PayloadVariant) => {
      const before = await stateFingerprint(ctx.db);
      const ack = await rawCommand(socket, command, v.text, 5_000);
      const what = `${v.description} → ${JSON.stringify(ack).slice(0, 200)}`;
      expect(ackProblem(ack), what).toBeNull();
      if ((ack as { ok: boolean }).ok === false) expect(changedTables(before, await stateFingerprint(ctx.db)), what).toBe("");
      expect(socket.connected, `${what}; disconnected: ${state.endedBy}`).toBe(true);
    };
    await fc.assert(fc.asyncProperty(payloadMutations(payload), check), {
      numRuns,
      endOnFailure: true,
      examples: fixedPayloads(payload).map((v) => [v] as [PayloadVariant]),
      ...(seed === undefined ? {} : { seed }),
    });

    expect(state.endedBy).toBe("");
    const again = await request(socket, command, await fixture.prepare(ctx, ctx.admin));
    expect(again, JSON.stringify(again).slice(0, 200)).toMatchObject({ ok: true });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("ignores a command sent without an acknowledgement, and the connection goes on", async () => {
    const { socket, state } = await adminSocket();
    const before = await stateFingerprint(ctx.db);
    socket.io.engine.write(`2["lead:move",{"leadId":"${ctx.world.visibleLeadId}","toStage":"inquiry","expectedVersion":"x"}]`);
    socket.io.engine.write(`2["board:join",${"[".repeat(10_000)}${"]".repeat(10_000)}]`);
    expect(await request(socket, "board:join", {})).toMatchObject({ ok: true });
    expect(changedTables(before, await stateFingerprint(ctx.db))).toBe("");
    expect(state.endedBy).toBe("");
  });

  it("closes only the connection that sends a frame over Socket.IO's 1 MB buffer; others go on", async () => {
    const { socket: big, state } = await adminSocket();
    const { socket: other } = await adminSocket();
    const before = await stateFingerprint(ctx.db);
    big.io.engine.write(`2["board:activity",{"boardId":"${defaultBoardId}","pad":"${"x".repeat(1_100_000)}"}]`);
    await until(() => state.endedBy !== "", 10_000);
    expect(state.endedBy).toBe("transport close");
    expect(await request(other, "board:join", {})).toMatchObject({ ok: true });
    expect(changedTables(before, await stateFingerprint(ctx.db))).toBe("");
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
