import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BoardEvent, BoardSnapshot } from "../../shared/board.ts";
import type { Actor } from "../../server/services/actor.ts";
import { makeContact, makeUser } from "../support/builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "../support/databases.ts";
import { modelInput } from "../support/scoring.ts";
import { collectEvents, connectSocket, login, request, startTestServer, until, waitForConnect, type TestServer, type TestSocket } from "../support/server.ts";

/** The live path end to end, with the worker running on its own: HTTP ingest → counters → worker → board events at clients. */
describe.each(drivers)("live scores at the board on %s", (driver) => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: Actor;
  let key: string;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await openTestDatabase(driver);
    server = await startTestServer(t.database);
    admin = (await makeUser(server.app.services.auth, "admin")).actor;
    key = (await server.app.services.apiKeys.create(admin, { name: "test ingest", scopes: ["ingest"] }, new Date())).key;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await server?.close();
    await t?.close();
  });

  async function viewer(role: "admin" | "sales_manager"): Promise<{ socket: TestSocket; events: BoardEvent[]; snapshot: BoardSnapshot }> {
    const { user } = await makeUser(server.app.services.auth, role);
    const socket = connectSocket(server.url, await login(server.url, user.email));
    sockets.push(socket);
    await waitForConnect(socket);
    const events = collectEvents(socket);
    const joined = await request<BoardSnapshot>(socket, "board:join", {});
    if (!joined.ok) throw new Error(joined.error.message);
    return { socket, events, snapshot: joined.data };
  }

  const ingest = async (items: unknown[]) => {
    const res = await fetch(`${server.url}/api/interactions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(items),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { accepted: number; rejected: unknown[] };
  };

  it("a burst of interactions on one lead reaches every viewer as a few coalesced events ending at the exact score", async () => {
    await server.app.services.scoringModels.create(
      admin,
      modelInput([{ kind: "behavior", interaction: "email_opened", points: 1, frequency: "each" }], { threshold: 10_000 }),
      new Date(),
    );
    await server.app.scoring.rescores.idle();
    const a = await viewer("admin");
    const b = await viewer("sales_manager");
    const contact = await makeContact(t.database.db, { email: `burst.${Date.now()}@test.example` });
    const lead = await server.app.services.leads.create(admin, { topic: "Burst", contactId: contact.id }, new Date());
    // 60 interactions in 30 requests, as fast as they go.
    for (let i = 0; i < 30; i++) {
      const result = await ingest([
        { type: "email_opened", contactId: contact.id },
        { type: "email_opened", email: contact.email },
      ]);
      expect(result).toEqual({ accepted: 2, rejected: [] });
    }
    const scoreAt = (events: BoardEvent[]) => {
      const last = events.filter((e) => e.type === "lead.scored" && e.lead.id === lead.id).at(-1);
      return last && "lead" in last ? last.lead.score : undefined;
    };
    await until(() => scoreAt(a.events) === 60 && scoreAt(b.events) === 60, 15_000);
    const scored = a.events.filter((e): e is Extract<BoardEvent, { type: "lead.scored" }> => e.type === "lead.scored" && e.lead.id === lead.id);
    // Coalesced: far fewer events than interactions, at least 100 ms apart on the server's clock.
    expect(scored.length).toBeLessThan(30);
    for (let i = 1; i < scored.length; i++) {
      expect(Date.parse(scored[i]!.at) - Date.parse(scored[i - 1]!.at)).toBeGreaterThanOrEqual(100);
    }
    // Its first score (perhaps 0, before the burst) moved it out of Inquiry; scores only go up here.
    expect(scored[0]?.moved).toEqual({ fromStage: "inquiry", toStage: "automated_marketing_qualification" });
    expect(scored.map((e) => e.lead.score)).toEqual([...scored.map((e) => e.lead.score)].sort((x, y) => x! - y!));
    // Both viewers saw the same contiguous sequence and end on the server's card.
    for (const viewerEvents of [a.events, b.events]) {
      const seqs = viewerEvents.map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    }
    const card = await server.app.services.leads.get(lead.id);
    expect(card.score).toBe(60);
    expect(scored.at(-1)?.lead).toEqual(card);
  });
});
