import { asc, eq, gt, sql } from "drizzle-orm";
import { boardEvents, leads } from "../../drizzle/schema.ts";
import type { InteractionRecord } from "../../server/services/scoring-counters.ts";
import type { BoardEvent } from "../../shared/board.ts";
import type { InteractionType, ScoringCondition } from "../../shared/domain/scoring.ts";
import type { LeadInput } from "../../shared/schemas/records.ts";
import { modelInput, scoresOf, type scoringWorld } from "./scoring.ts";

export type ScoredEvent = Extract<BoardEvent, { type: "lead.scored" }>;

/** What the end-to-end scoring tests do again and again, over one scoring world. */
export function liveScoring(w: ReturnType<typeof scoringWorld>) {
  const { clock, db, s, drain, idle, record } = w;
  const recordTimes = async (n: number, contactId: string, type: InteractionType, extra: Partial<InteractionRecord> = {}) => {
    for (let i = 0; i < n; i++) await record(contactId, type, extra);
  };
  const publish = async (...args: Parameters<typeof modelInput>) => {
    const { model } = await s().scoringModels.create(w.admin, modelInput(...args), clock.now());
    await idle();
    await drain();
    return model;
  };
  const unpublish = async (...ids: string[]) => {
    for (const id of ids) await s().scoringModels.update(w.admin, id, { status: "draft" }, clock.now());
    await idle();
    await drain();
  };
  const newLead = (input: Omit<LeadInput, "topic"> & { topic?: string }) =>
    s().leads.create(w.admin, { topic: input.topic ?? "Lead", ...input }, clock.now());
  const newAccount = (name: string, extra: { industry?: string } = {}) => s().records.createAccount(w.admin, { name, ...extra }, clock.now());
  const scoreUnder = async (leadId: string, modelId: string) => (await scoresOf(db(), leadId)).find((r) => r.modelId === modelId);
  const leadRow = async (leadId: string) => (await db().select().from(leads).where(eq(leads.id, leadId)))[0]!;
  const version = async (leadId: string) => (await leadRow(leadId)).version;
  const lastSeq = async () => Number((await db().select({ n: sql<number>`coalesce(max(${boardEvents.seq}), 0)` }).from(boardEvents))[0]?.n ?? 0);
  const scoredEventsSince = async (seq: number, leadId?: string): Promise<ScoredEvent[]> =>
    (await db().select().from(boardEvents).where(gt(boardEvents.seq, seq)).orderBy(asc(boardEvents.seq)))
      .map((r) => r.payload as BoardEvent)
      .filter((e): e is ScoredEvent => e.type === "lead.scored" && (leadId === undefined || e.lead.id === leadId));
  const each = (interaction: InteractionType, points: number, extra: Partial<ScoringCondition> = {}): ScoringCondition =>
    ({ kind: "behavior", interaction, points, frequency: "each", ...extra }) as ScoringCondition;
  return { clock, db, s, drain, idle, record, recordTimes, publish, unpublish, newLead, newAccount, scoreUnder, leadRow, version, lastSeq, scoredEventsSince, each };
}
