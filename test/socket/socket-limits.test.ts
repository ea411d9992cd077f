import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BoardSnapshot } from "../../shared/board.ts";
import type { Ack, ErrorBody } from "../../shared/errors.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { makeLead, makeUser } from "../support/builders.ts";
import { connectSocket, login, request, startTestServer, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";

describe.each(drivers)("socket command limits per connection on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let cookie: string;
  const sockets: TestSocket[] = [];
  const rate = { perSecond: 5, burst: 10 };

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database, undefined, { deps: { security: { commandRate: rate } } });
    const admin = await makeUser(server.app.services.auth, "admin");
    await makeLead(t.database.db, server.app.services.leads, admin.actor);
    cookie = await login(server.url, admin.user.email);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  async function connected(): Promise<TestSocket> {
    const socket = connectSocket(server.url, cookie);
    sockets.push(socket);
    await waitForConnect(socket);
    return socket;
  }

  /** What a bucket can admit since `started`: the burst plus what refilled meanwhile. */
  const admissible = (started: number) => rate.burst + Math.ceil(((Date.now() - started) / 1000) * rate.perSecond) + 1;

  const errorOf = (ack: Ack<unknown>): ErrorBody | undefined => (ack.ok ? undefined : ack.error);

  it("answers a flood with RATE_LIMITED (and when to retry), keeps serving others, and lets the flooder back in after waiting", async () => {
    const flooder = await connected();
    const neighbour = await connected();
    const before = (await request<BoardSnapshot>(neighbour, "board:join", {})) as Ack<BoardSnapshot>;
    expect(before.ok).toBe(true);

    // Fifty invalid commands at once: each one costs a token whether or not its payload is valid.
    const started = Date.now();
    const acks = await Promise.all(Array.from({ length: 50 }, () => request(flooder, "board:activity", { boardId: 42 })));
    const codes = acks.map((a) => errorOf(a)?.code);
    expect(codes.filter((c) => c === "INVALID_INPUT").length).toBeGreaterThanOrEqual(rate.burst);
    expect(codes.filter((c) => c !== "RATE_LIMITED").length).toBeLessThanOrEqual(admissible(started));
    const limited = acks.map(errorOf).filter((e) => e?.code === "RATE_LIMITED");
    expect(limited.length).toBeGreaterThan(0);
    for (const error of limited) {
      expect(error?.message).toBe("Too many commands on this connection; slow down");
      expect((error?.details as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    }

    // Another connection of the same user is not slowed by the flooder's bucket.
    const during = await request<BoardSnapshot>(neighbour, "board:join", {});
    expect(during.ok).toBe(true);
    if (during.ok && before.ok) expect(during.data.leads.map((l) => l.id)).toEqual(before.data.leads.map((l) => l.id));

    // The flooder recovers once it waits as told.
    const wait = (limited.at(-1)?.details as { retryAfterMs: number }).retryAfterMs;
    await new Promise((r) => setTimeout(r, wait));
    await expect
      .poll(async () => (await request<BoardSnapshot>(flooder, "board:join", {})).ok, { timeout: 5000, interval: 250 })
      .toBe(true);
    expect(flooder.connected).toBe(true);
  });

  it("shares one bucket between board and presence commands on a connection", async () => {
    const socket = await connected();
    const started = Date.now();
    const acks = await Promise.all([
      ...Array.from({ length: 20 }, () => request(socket, "presence:set", { boardId: 42 })),
      ...Array.from({ length: 20 }, () => request(socket, "board:activity", { boardId: 42 })),
    ]);
    // Whatever the mix, the connection got no more than one bucket's worth.
    expect(acks.filter((a) => errorOf(a)?.code !== "RATE_LIMITED").length).toBeLessThanOrEqual(admissible(started));
    expect(acks.slice(0, 20).some((a) => errorOf(a)?.code !== "RATE_LIMITED")).toBe(true);
  });
});
