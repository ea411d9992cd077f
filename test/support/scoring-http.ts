import { asc, count } from "drizzle-orm";
import { afterAll, beforeAll, expect } from "vitest";
import { interactions, leads, leadScores, scoringModels } from "../../drizzle/schema.ts";
import type { Actor } from "../../server/services/actor.ts";
import type { ScoringCondition } from "../../shared/domain/scoring.ts";
import type { Role } from "../../shared/schemas/common.ts";
import type { ScoreExplanation, ScoringModelView } from "../../shared/schemas/scoring.ts";
import { makeUser } from "./builders.ts";
import { drivers, openTestDatabase, type TestDatabase } from "./databases.ts";
import { modelInput, startScoringApp, TestClock } from "./scoring.ts";
import { login } from "./server.ts";

/** What the scoring HTTP tests share: a private database and app per block, and request helpers. */
export interface ErrorJson {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}
export interface Ingested {
  accepted: number;
  rejected: Array<{ index: number; error: { code: string; message: string; details?: Array<{ field: string; message: string }> } }>;
}

export interface Request {
  method?: string;
  json?: unknown;
  /** A raw body, sent as is with `contentType`. */
  raw?: string;
  contentType?: string;
  /** A session cookie; null for none. Defaults to the admin's. */
  as?: string | null;
  bearer?: string;
}

let serial = 0;
export const unique = () => `${Date.now().toString(36)}${++serial}`;

/** A private database and app per block, so counts over "every lead" are exact. */
export function openWorld(driver: (typeof drivers)[number]) {
  const clock = new TestClock();
  const w = {
    clock,
    t: undefined as unknown as TestDatabase,
    server: undefined as unknown as Awaited<ReturnType<typeof startScoringApp>>,
    admin: undefined as unknown as Actor,
    cookies: {} as Record<Role, string>,
    ingestKey: "",
    readKey: "",
    db: () => w.t.database.db,
    async api<T = unknown>(path: string, init: Request = {}): Promise<{ status: number; body: T }> {
      const headers: Record<string, string> = {};
      if (init.as !== null) headers.cookie = init.as ?? w.cookies.admin;
      if (init.bearer !== undefined) headers.authorization = `Bearer ${init.bearer}`;
      let body: string | undefined;
      if (init.raw !== undefined) {
        body = init.raw;
        headers["content-type"] = init.contentType ?? "application/json";
      } else if (init.json !== undefined) {
        body = JSON.stringify(init.json);
        headers["content-type"] = "application/json";
      }
      const res = await fetch(`${w.server.url}/api${path}`, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    },
    ingest: (items: unknown, init: Request = {}) => w.api<Ingested>("/interactions", { as: null, bearer: w.ingestKey, json: items, ...init }),
    drain: () => w.server.app.scoring.worker.drain(),
    async settle() {
      await w.server.app.scoring.rescores.idle();
      await w.drain();
    },
    async publish(conditions: ScoringCondition[], overrides: Parameters<typeof modelInput>[1] = {}): Promise<ScoringModelView> {
      const res = await w.api<{ model: ScoringModelView }>("/scoring-models", { json: modelInput(conditions, { status: "live", ...overrides }) });
      expect(res.status).toBe(201);
      await w.settle();
      return res.body.model;
    },
    async retire(id: string) {
      const res = await w.api(`/scoring-models/${id}`, { method: "PATCH", json: { status: "draft" } });
      expect(res.status).toBe(200);
      await w.settle();
    },
    async lead(overrides: { contactId?: string | null; accountId?: string | null; topic?: string } = {}) {
      return w.server.app.services.leads.create(w.admin, { topic: overrides.topic ?? `Lead ${unique()}`, ...overrides }, clock.now());
    },
    async scoreOf(leadId: string, modelId: string) {
      const res = await w.api<{ scores: ScoreExplanation[] }>(`/leads/${leadId}/scores`);
      expect(res.status).toBe(200);
      return res.body.scores.find((s) => s.modelId === modelId);
    },
    async snapshot() {
      const db = w.db();
      return {
        scores: await db.select().from(leadScores).orderBy(asc(leadScores.leadId), asc(leadScores.modelId)),
        models: await db.select().from(scoringModels).orderBy(asc(scoringModels.id)),
        leads: await db.select().from(leads).orderBy(asc(leads.id)),
      };
    },
    async interactionCount() {
      return (await w.db().select({ n: count() }).from(interactions))[0]!.n;
    },
  };

  beforeAll(async () => {
    w.t = await openTestDatabase(driver);
    w.server = await startScoringApp(w.t.database, clock);
    const auth = w.server.app.services.auth;
    const roles: Role[] = ["admin", "marketer", "telemarketer", "sales_manager", "salesperson", "viewer"];
    for (const role of roles) {
      const { user, actor } = await makeUser(auth, role);
      if (role === "admin") w.admin = actor;
      w.cookies[role] = await login(w.server.url, user.email);
    }
    const key = async (scopes: string[]) => {
      const res = await w.api<{ key: string }>("/api-keys", { json: { name: `Key ${scopes.join("+")}`, scopes } });
      expect(res.status).toBe(201);
      return res.body.key;
    };
    w.ingestKey = await key(["ingest"]);
    w.readKey = await key(["read", "write"]);
  });
  afterAll(async () => {
    await w.server?.close();
    await w.t?.close();
  });
  return w;
}

export const formEach: ScoringCondition = { kind: "behavior", interaction: "form_submitted", points: 10, frequency: "each" };
export const bands = [
  { grade: "Cold", min: 0, max: 39 },
  { grade: "Hot", min: 40, max: 1000 },
];
