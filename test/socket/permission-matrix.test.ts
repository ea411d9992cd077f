import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { leads } from "../../drizzle/schema.ts";
import type { Ack } from "../../shared/errors.ts";
import { commandCoverage, commandFixtures, commandNames, commandAction, mayJoin, joinPayload } from "../support/command-fixtures.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import {
  connectOrRefusal,
  expectedHttp,
  expectedSocket,
  principalNames,
  principalSpec,
  socketFor,
  type Expectation,
  type MatrixPrincipal,
  type PrincipalName,
} from "../support/matrix-principals.ts";
import { buildMatrixContext, type MatrixContext } from "../support/matrix-world.ts";
import { guardedRouter } from "../../server/http/guard.ts";
import {
  accessOf,
  errorOf,
  fixtureCoverage,
  routeFixtures,
  routeKeys,
  sendRoute,
  type HttpAnswer,
  type HttpRequestSpec,
  type RouteFixture,
} from "../support/route-fixtures.ts";
import { request, startTestServer, type TestServer, type TestSocket } from "../support/server.ts";
import { changedTables, stateFingerprint } from "../support/state-fingerprint.ts";

/**
 * The permission matrix as a table: every principal (a person of each role, an API key of
 * each scope, a wall display, nobody) against every row of the route table and every
 * socket command. Allowed: the fixture's fresh valid request succeeds (or meets the rule
 * beyond the matrix its fixture documents). Refused: exactly FORBIDDEN (UNAUTHENTICATED
 * without credentials), and the database is exactly as it was.
 */
const refusal: Record<Exclude<Expectation, "allowed">, { status: number; code: string }> = {
  forbidden: { status: 403, code: "FORBIDDEN" },
  unauthenticated: { status: 401, code: "UNAUTHENTICATED" },
};

const label = (name: PrincipalName, expectation: Expectation) =>
  `${name}: ${expectation === "allowed" ? "allowed" : refusal[expectation].code}`;

const httpCells = (key: string) =>
  principalNames.map((name) => {
    const expectation = expectedHttp(principalSpec(name), accessOf(key));
    return { name, expectation, title: label(name, expectation) };
  });

const socketCells = (command: string) =>
  principalNames.map((name) => {
    const expectation = expectedSocket(principalSpec(name), commandAction(command));
    return { name, expectation, title: label(name, expectation) };
  });

const show = (answer: HttpAnswer) => `${answer.status} ${answer.text.slice(0, 300)}`;

describe.each(drivers)("permission matrix on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let ctx: MatrixContext;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database, undefined, {
      // No background scoring: a refused call's fingerprint must not catch the worker's writes.
      deps: { scoring: { autoStart: false }, publicIntake: { corsOrigins: [], perMinute: 100_000 } },
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

  const principal = (name: PrincipalName) => {
    const who = ctx.principals[name];
    if (who.credentials.missing) throw new Error(`principal ${name} could not be made: ${who.credentials.missing}`);
    return who;
  };

  /**
   * A refused call changes nothing (each cell checks it), so the request prepared for one
   * refused non-person (a key, a display, nobody) stays valid for the next: reuse it.
   */
  const refusedSpecs = new Map<string, HttpRequestSpec>();
  async function specFor(key: string, fixture: RouteFixture, who: MatrixPrincipal, expectation: Expectation) {
    const reusable = expectation !== "allowed" && who.spec.kind !== "user";
    const cached = reusable ? refusedSpecs.get(key) : undefined;
    if (cached) return cached;
    const spec = await fixture.prepare(ctx, who);
    if (reusable) refusedSpecs.set(key, spec);
    return spec;
  }

  it("has a fixture for every row of the route table and a row for every fixture", () => {
    expect(fixtureCoverage()).toEqual({ rowsWithoutFixture: [], fixturesWithoutRow: [] });
  });

  it("has a fixture for every socket command and a command for every fixture", () => {
    expect(commandCoverage()).toEqual({ commandsWithoutFixture: [], fixturesWithoutCommand: [] });
  });

  it("fingerprints the state so that a change to any row shows (the refusals below rely on it)", async () => {
    const [lead] = await ctx.db.select().from(leads).where(eq(leads.id, ctx.world.visibleLeadId));
    const before = await stateFingerprint(ctx.db);
    await ctx.db.update(leads).set({ topic: `${lead!.topic}!` }).where(eq(leads.id, lead!.id));
    expect(changedTables(before, await stateFingerprint(ctx.db))).toMatch(/^leads \(/);
    await ctx.db.update(leads).set({ topic: lead!.topic }).where(eq(leads.id, lead!.id));
    expect(changedTables(before, await stateFingerprint(ctx.db))).toBe("");
  });

  // With every row requested below answering something other than "No such endpoint", the
  // app registers exactly the table's routes.
  it("refuses to register a route the table does not name", () => {
    expect(() => guardedRouter().post("/leads/:id/teleport", () => {})).toThrow(/not in the permission table/);
  });

  describe.each(routeKeys)("%s", (key) => {
    it.each(httpCells(key))("$title", async ({ name, expectation }) => {
      const fixture = routeFixtures[key];
      if (!fixture) throw new Error(`no fixture for the route table's row ${key} (test/support/route-fixtures*.ts)`);
      const who = principal(name);
      const spec = await specFor(key, fixture, who, expectation);
      const before = expectation === "allowed" ? undefined : await stateFingerprint(ctx.db);
      const answer = await sendRoute(ctx, key, spec, who);
      const error = errorOf(answer);
      expect(error?.message, `${key} is not registered`).not.toBe("No such endpoint");
      if (answer.status >= 400) expect(error, `error shape: ${show(answer)}`).toBeDefined();
      if (expectation === "allowed") {
        const documented = fixture.documented?.(who);
        if (documented) {
          expect({ status: answer.status, code: error?.code }, `${documented.why}: ${show(answer)}`).toEqual({
            status: documented.status,
            code: documented.code,
          });
        } else {
          expect(answer.status, show(answer)).toBeLessThan(300);
          await fixture.settle?.(ctx, answer.json);
        }
      } else {
        expect({ status: answer.status, code: error?.code }, show(answer)).toEqual(refusal[expectation]);
        expect(changedTables(before!, await stateFingerprint(ctx.db))).toBe("");
      }
    });
  });

  describe.each(commandNames)("socket %s", (command) => {
    it.each(socketCells(command))("$title", async ({ name, expectation }) => {
      const fixture = commandFixtures[command];
      if (!fixture) throw new Error(`no fixture for the socket command ${command} (test/support/command-fixtures.ts)`);
      const who = principal(name);
      const socket = socketFor(server, who.credentials);
      sockets.push(socket);
      const handshake = await connectOrRefusal(socket);
      if (expectation === "unauthenticated") {
        expect(handshake).toEqual({ connected: false, code: "UNAUTHENTICATED" });
        return;
      }
      expect(handshake).toEqual({ connected: true });
      let endedByServer = false;
      socket.on("disconnect", (reason) => {
        if (reason === "io server disconnect") endedByServer = true;
      });
      if (fixture.before && mayJoin(who)) await fixture.before(ctx, socket, who);
      const payload = await fixture.prepare(ctx, who);
      const before = expectation === "allowed" ? undefined : await stateFingerprint(ctx.db);
      const ack = await request<unknown>(socket, command, payload);
      if (expectation === "allowed") {
        const documented = fixture.documented?.(who);
        if (documented) expect(ack, documented.why).toMatchObject({ ok: false, error: { code: documented.code } });
        else expect(ack, JSON.stringify(ack).slice(0, 300)).toMatchObject({ ok: true });
      } else {
        expect(ack, JSON.stringify(ack).slice(0, 300)).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });
        expect(changedTables(before!, await stateFingerprint(ctx.db))).toBe("");
      }
      expect(endedByServer).toBe(false);
    });
  });

  describe("a wall display sees only its screen", () => {
    const displaySocket = async () => {
      const socket = socketFor(server, principal("display").credentials);
      sockets.push(socket);
      expect(await connectOrRefusal(socket)).toEqual({ connected: true });
      return socket;
    };
    const refused = (ack: Ack<unknown>) => expect(ack).toMatchObject({ ok: false, error: { code: "FORBIDDEN" } });

    it("may join its screen's board and view", async () => {
      const socket = await displaySocket();
      expect(await request(socket, "board:join", joinPayload(ctx.principals.display))).toMatchObject({ ok: true });
    });

    it("may not join another board, or its board in another view", async () => {
      const socket = await displaySocket();
      refused(await request(socket, "board:join", { processId: ctx.world.otherProcessId }));
      refused(await request(socket, "board:join", { view: "sales_ready" }));
    });

    it("has no HTTP access: its token is no API key", async () => {
      const res = await fetch(`${server.url}/api/leads`, {
        headers: { authorization: `Bearer ${principal("display").credentials.displayToken}` },
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("UNAUTHENTICATED");
    });

    it("may not resync another board", async () => {
      const socket = await displaySocket();
      const other = await ctx.adminCall<{ boardId: string }>("GET", `/api/processes/${ctx.world.otherProcessId}`);
      refused(await request(socket, "board:resync", { boardId: other.boardId, sinceSeq: 0 }));
    });
  });
});
