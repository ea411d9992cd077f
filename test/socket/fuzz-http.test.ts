import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { errorShapeProblem, fixedVariants, requestMutations, sendRaw, type RawRequest } from "../support/fuzz-requests.ts";
import { authHeaders, expectedHttp, principalNames, type MatrixPrincipal } from "../support/matrix-principals.ts";
import { buildMatrixContext, type MatrixContext } from "../support/matrix-world.ts";
import { accessOf, routeFixtures, routeKeys, sendRoute } from "../support/route-fixtures.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { changedTables, stateFingerprint } from "../support/state-fingerprint.ts";

/**
 * Every HTTP route, fed malformed variants of its valid request (wrong types, missing and
 * extra fields, huge strings, deep nesting, `__proto__` keys, invalid UTF-8, numbers out of
 * range, wrong content types, bad query strings and path params), as a principal allowed
 * to call it so the input reaches validation. Never a 5xx; every error in the contract's
 * shape; nothing changed by a refused request; the server still answers afterwards.
 * FUZZ_RUNS and FUZZ_SEED reproduce a run (fast-check prints the seed of a failure).
 */
const numRuns = Number(process.env.FUZZ_RUNS ?? 25);
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

describe.each(drivers)("fuzzing every HTTP route on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let ctx: MatrixContext;

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database, undefined, {
      deps: {
        scoring: { autoStart: false },
        publicIntake: { corsOrigins: [], perMinute: 1_000_000 },
        // Reach validation: no lockout after the fuzzer's failed sign-ins.
        security: { login: { failuresPerAccount: 1_000_000, failuresPerAddress: 1_000_000 } },
      },
    });
    ctx = await buildMatrixContext(server, t);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  /** The admin unless the row is not theirs (interactions: the ingest key). */
  function caller(key: string): MatrixPrincipal {
    const fixture = routeFixtures[key]!;
    const name = principalNames.find((n) => {
      const who = ctx.principals[n];
      return expectedHttp(who.spec, accessOf(key)) === "allowed" && !fixture.documented?.(who) && !who.credentials.missing;
    });
    if (!name) throw new Error(`nobody may call ${key}`);
    return ctx.principals[name];
  }

  async function check(key: string, request: RawRequest): Promise<void> {
    const before = await stateFingerprint(ctx.db);
    const answer = await sendRaw(server.url, request);
    const what = `${request.description} → ${answer.status} ${answer.text.slice(0, 200)}`;
    expect(answer.status, what).toBeLessThan(500);
    if (answer.status >= 400) {
      expect(errorShapeProblem(answer), what).toBeNull();
      expect(changedTables(before, await stateFingerprint(ctx.db)), what).toBe("");
    } else {
      let json: unknown;
      try {
        json = JSON.parse(answer.text);
      } catch {
        json = undefined;
      }
      await routeFixtures[key]!.settle?.(ctx, json);
    }
  }

  it("a segment compares a fractional or huge number with an integer field (the fuzzer found a 500)", async () => {
    const name = ctx.unique("Forty people");
    const account = await ctx.adminCall<{ id: string }>("POST", "/api/accounts", { name, employeeCount: 40 });
    await ctx.adminCall("POST", "/api/contacts", { email: `${ctx.unique("staff")}@matrix.example`, accountId: account.id });
    const cases: Array<[string, unknown, number]> = [
      ["gte", 39.5, 1],
      ["lt", 40.5, 1],
      ["gt", 1e21, 0],
      ["eq", 40.0000001, 0],
      ["in", [39.9, 40], 1],
      ["lte", 5e-324, 0],
    ];
    for (const [op, value, count] of cases) {
      const preview = await ctx.adminCall<{ count: number }>("POST", "/api/segments/preview", {
        query: { from: "accounts", where: [{ field: "name", op: "eq", value: name }, { field: "employeeCount", op, value }] },
      });
      expect(preview.count, `employeeCount ${op} ${JSON.stringify(value)}`).toBe(count);
    }
  });

  it.each(routeKeys)("%s", async (key) => {
    const fixture = routeFixtures[key];
    if (!fixture) throw new Error(`no fixture for ${key}`);
    const who = caller(key);
    const spec = await fixture.prepare(ctx, who);
    const auth = authHeaders(spec.credentials ?? who.credentials);
    await fc.assert(
      fc.asyncProperty(requestMutations(key, spec, auth), (request) => check(key, request)),
      {
        numRuns,
        endOnFailure: true,
        examples: fixedVariants(key, spec, auth).map((request) => [request] as [RawRequest]),
        ...(seed === undefined ? {} : { seed }),
      },
    );

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const fresh = await fixture.prepare(ctx, who);
    const answer = await sendRoute(ctx, key, fresh, who);
    expect(answer.status, `a valid request after the fuzzing: ${answer.status} ${answer.text.slice(0, 200)}`).toBeLessThan(300);
    await fixture.settle?.(ctx, answer.json);
  });
});
