import { and, eq } from "drizzle-orm";
import { boards, leads, stages } from "../../drizzle/schema.ts";
import type { LeadCard } from "../../shared/board.ts";
import { rankBetween } from "../../shared/domain/ranks.ts";
import { lastRankInStage } from "../../server/repositories/leads.ts";
import type { Db } from "../../server/db/client.ts";
import type { Actor } from "../../server/services/actor.ts";
import type { TestDatabase } from "./databases.ts";
import { createPrincipals, type MatrixPrincipal, type Principals } from "./matrix-principals.ts";
import type { TestServer } from "./server.ts";

/** The default process and its board exist in every database (migration 0001). */
export const defaultProcessId = "00000000-0000-4000-8000-000000000001";
export const defaultBoardId = "00000000-0000-4000-8000-000000000002";

/** Records every fixture may point at, built once per file (by the admin, over HTTP). */
export interface MatrixWorld {
  otherProcessId: string;
  contactId: string;
  accountId: string;
  formId: string;
  eventId: string;
  linkedinFormId: string;
  modelId: string;
  segmentId: string;
  importId: string;
  /** The admin's own saved view (what refused principals are pointed at). */
  savedViewId: string;
  /** Sales-ready and owned by the salesperson: every principal that may read leads sees it. */
  visibleLeadId: string;
}

export interface LeadSpec {
  stage: string;
  readyForTeleprospecting?: boolean;
  teleprospectingAccepted?: boolean;
  salesReady?: boolean;
  salesAccepted?: boolean;
  ownerId?: string | null;
  withContact?: boolean;
}

/** What a request about a lead needs of it. */
export type BuiltLead = Pick<LeadCard, "id" | "version">;

export interface MatrixContext {
  server: TestServer;
  t: TestDatabase;
  db: Db;
  principals: Principals;
  world: MatrixWorld;
  admin: MatrixPrincipal;
  adminActor: Actor;
  /** A string no other call of this run uses. */
  unique(prefix: string): string;
  /** A call as the admin that must succeed; answers the JSON body. */
  adminCall<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** A fresh lead with a contact, placed in a stage with flags and owner (bypassing gates). */
  lead(spec: LeadSpec): Promise<BuiltLead>;
  /** The board's last sequence number now. */
  boardSeq(boardId?: string): Promise<number>;
}

let serial = 0;

/**
 * Principals and the world on a running server. Background work is stopped first (the
 * server should be started with `scoring.autoStart: false`): a rescore writing while a
 * refused call is checked would look like the call's doing.
 */
export async function buildMatrixContext(server: TestServer, t: TestDatabase): Promise<MatrixContext> {
  await server.app.scoring.rescores.stop();
  const principals = await createPrincipals(server, defaultProcessId);
  const admin = principals.admin;
  const adminActor = admin.actor!;
  const db = t.database.db;
  const run = Date.now().toString(36);
  const unique = (prefix: string) => `${prefix}-${run}-${++serial}`;

  async function adminCall<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { cookie: admin.credentials.cookie!, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`setup: ${method} ${path} answered ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  // One parent contact for every built lead: a contact may have many leads, and it saves a write per lead.
  const parent = await server.app.services.records.createContact(adminActor, { email: `${unique("parent")}@matrix.example` }, new Date());

  async function lead(spec: LeadSpec): Promise<BuiltLead> {
    const contactId = spec.withContact === false ? null : parent.id;
    const card = await server.app.services.leads.create(
      adminActor,
      { topic: unique("Matrix lead"), contactId, ownerId: spec.ownerId ?? null },
      new Date(),
    );
    const [target] = await db
      .select()
      .from(stages)
      .where(and(eq(stages.key, spec.stage), eq(stages.processId, card.processId)));
    if (!target) throw new Error(`no stage ${spec.stage}`);
    const rank = rankBetween(await lastRankInStage(db, target.id, card.id), null);
    await db
      .update(leads)
      .set({
        stageId: target.id,
        rank,
        readyForTeleprospecting: spec.readyForTeleprospecting ?? false,
        teleprospectingAccepted: spec.teleprospectingAccepted ?? false,
        salesReady: spec.salesReady ?? false,
        salesAccepted: spec.salesAccepted ?? false,
      })
      .where(eq(leads.id, card.id));
    // Placing it bypasses the version: the created card's id and version are what a request sends.
    return { id: card.id, version: card.version };
  }

  async function boardSeq(boardId = defaultBoardId): Promise<number> {
    const [row] = await db.select({ seq: boards.lastSeq }).from(boards).where(eq(boards.id, boardId));
    return row?.seq ?? 0;
  }

  const partial = { server, t, db, principals, admin, adminActor, unique, adminCall, lead, boardSeq };
  const world = await buildWorld(partial);
  return { ...partial, world };
}

async function buildWorld(ctx: Omit<MatrixContext, "world">): Promise<MatrixWorld> {
  const { adminCall, unique } = ctx;
  const other = await adminCall<{ id: string }>("POST", "/api/processes", {
    name: unique("Matrix process"),
    stages: [
      { key: "first", name: "First" },
      { key: "second", name: "Second" },
    ],
  });
  const account = await adminCall<{ id: string }>("POST", "/api/accounts", { name: unique("Matrix account") });
  const contact = await adminCall<{ id: string }>("POST", "/api/contacts", {
    email: `${unique("contact")}@matrix.example`,
    firstName: "Pat",
    accountId: account.id,
  });
  const form = await adminCall<{ id: string }>("POST", "/api/forms", { name: unique("Matrix form") });
  const event = await adminCall<{ id: string }>("POST", "/api/events", { name: unique("Matrix event"), startsAt: "2030-01-01T10:00:00Z" });
  const linkedinFormId = String(700000 + (serial++ % 100000));
  await adminCall("POST", "/api/integrations/linkedin/forms", linkedinForm(linkedinFormId));
  const model = await adminCall<{ model: { id: string } }>("POST", "/api/scoring-models", scoringModel(unique("Matrix model")));
  const segment = await adminCall<{ id: string }>("POST", "/api/segments", {
    name: unique("Matrix segment"),
    query: { from: "contacts", where: [] },
  });
  const importId = await runImport(ctx);
  const savedView = await adminCall<{ id: string }>("POST", "/api/saved-views", { name: unique("Matrix view"), filters: {} });
  const visible = await ctx.lead({ stage: "sales_acceptance", salesReady: true, ownerId: ctx.principals.salesperson.userId });
  return {
    otherProcessId: other.id,
    contactId: contact.id,
    accountId: account.id,
    formId: form.id,
    eventId: event.id,
    linkedinFormId,
    modelId: model.model.id,
    segmentId: segment.id,
    importId,
    savedViewId: savedView.id,
    visibleLeadId: visible.id,
  };
}

/** A LinkedIn lead form record with an email question (question 1). */
export function linkedinForm(id: string) {
  return { id, name: `Form ${id}`, content: { questions: [{ questionId: 1, predefinedField: "EMAIL", name: "email" }] } };
}

export function scoringModel(name: string) {
  return {
    name,
    target: "contact",
    threshold: 50,
    conditions: [{ kind: "behavior", interaction: "form_submitted", points: 10, frequency: "each" }],
  };
}

/** Starts a small CSV import as the admin and waits until it has finished. */
export async function runImport(ctx: Pick<MatrixContext, "server" | "admin" | "unique" | "adminCall">): Promise<string> {
  const res = await fetch(`${ctx.server.url}/api/imports?kind=contacts`, {
    method: "POST",
    headers: { cookie: ctx.admin.credentials.cookie!, "content-type": "text/csv" },
    body: `email,firstName\n${ctx.unique("imported")}@matrix.example,Ivy\n`,
  });
  if (res.status !== 202) throw new Error(`setup: import answered ${res.status} ${await res.text()}`);
  const { importId } = (await res.json()) as { importId: string };
  await importFinished(ctx, importId);
  return importId;
}

export async function importFinished(ctx: Pick<MatrixContext, "adminCall">, importId: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const view = await ctx.adminCall<{ status: string }>("GET", `/api/imports/${importId}`);
    if (view.status !== "running") return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`import ${importId} did not finish`);
}
