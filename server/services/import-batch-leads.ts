/**
 * The leads of a batch of import rows (see import-batch.ts): `IntakeService.upsertLead` and
 * `LeadService.createInTransaction` for every row at once, and their board events.
 */
import { randomUUID } from "node:crypto";
import type { BoardEventDraft, LeadCard } from "../../shared/board.ts";
import { matchKey, mergeIncoming, type MatchValues } from "../../shared/domain/matching.ts";
import { ranksAfter } from "../../shared/domain/ranks.ts";
import type { ImportRowValues } from "../../shared/schemas/imports.ts";
import type { Tx } from "../db/client.ts";
import * as boardsRepo from "../repositories/boards.ts";
import * as leadBatches from "../repositories/lead-batches.ts";
import * as leadsRepo from "../repositories/leads.ts";
import * as matching from "../repositories/matching.ts";
import { toEventActor, type Actor } from "./actor.ts";
import type { EventLog } from "./event-log.ts";
import {
  claim,
  isPersonRow,
  nameKey,
  registerAll,
  type Accounts,
  type BatchContext,
  type ContactOutcome,
  type ContactState,
  type KeyEntry,
  type RowResult,
} from "./import-batch-common.ts";
import { keysFor, personLeadKey } from "./intake-service.ts";

interface LeadState {
  id: string;
  topic: string;
  campaign: string | null;
  contactId: string | null;
  accountId: string | null;
  processId: string | null;
  isNew: boolean;
  bumps: number;
  /** Where a new lead went. */
  place?: { stageId: string; stage: string; rank: string };
}

/** `IntakeService.upsertLead` (and the import's account-only leads) for every row at once. */
export async function upsertLeads(
  tx: Tx,
  log: EventLog,
  job: BatchContext,
  rows: ImportRowValues[],
  contacts: { results: Array<ContactOutcome | null>; states: Map<string, ContactState> },
  accounts: Accounts,
  now: Date,
) {
  const { channel, strategies } = job;
  const plans = rows.map((values, i) => {
    const contact = contacts.results[i];
    if (isPersonRow(values)) {
      const { topic, campaign, keyValues } = personLeadKey(values, contact?.email, channel);
      return { person: true, topic, campaign, keyValues, contactId: contact?.id ?? null, accountId: contact?.accountId ?? null };
    }
    const topic = values.topic ?? channel.defaultTopic;
    const campaign = values.campaign ?? channel.campaign ?? null;
    const keyValues: MatchValues = { company: values.company, topic, campaign };
    return { person: false, topic, campaign, keyValues, contactId: null, accountId: accounts.byKey.get(nameKey(values.company!))! };
  });
  const keys = plans.map((p) => matchKey(strategies.lead.fields, p.keyValues));
  const ids = rows.map((): string => randomUUID());
  const owners = await claim(tx, strategies.lead, keys, ids);
  const tentative = new Set<string>(ids);
  const known = await leadBatches.lockLeads(tx, [...owners.values()].filter((id) => !tentative.has(id)));

  const states = new Map<string, LeadState>();
  const holders = new Map<string, string>();
  const repoints: Array<{ key: string; recordId: string }> = [];
  const registered: KeyEntry[] = [];
  /** Leads to announce, in the order the rows first touched them. */
  const touched = new Set<string>();
  const rebuild = new Set<string>();
  const results: RowResult[] = [];

  plans.forEach((plan, i) => {
    const key = keys[i];
    const holder = key ? (holders.get(key) ?? owners.get(key)!) : ids[i]!;
    let state = states.get(holder);
    const row = state ? undefined : known.get(holder);
    if (row && row.status === "open") {
      const { id, topic, campaign, contactId, accountId, processId } = row;
      states.set(holder, (state = { id, topic, campaign, contactId, accountId, processId, isNew: false, bumps: 0 }));
    }
    if (state) {
      if (!plan.person) return results.push("updated");
      const values = rows[i]!;
      const changes = mergeIncoming(
        { topic: state.topic, campaign: state.campaign, contactId: state.contactId },
        { topic: values.topic?.trim() || undefined, campaign: values.campaign?.trim() || undefined, contactId: state.contactId ?? plan.contactId },
      );
      if (Object.keys(changes).length === 0) return results.push("updated");
      Object.assign(state, changes);
      state.bumps++;
      if (!state.isNew) touched.add(state.id);
      if (changes.contactId !== undefined || changes.campaign !== undefined) rebuild.add(state.id);
      return results.push("updated");
    }
    // A new lead. A converted or disqualified lead (or a vanished one) does not absorb new interest: the new lead takes its key.
    const id = ids[i]!;
    if (key && holder !== id) repoints.push({ key, recordId: id });
    if (key) holders.set(key, id);
    const { topic, campaign, contactId, accountId } = plan;
    states.set(id, { id, topic, campaign, contactId, accountId, processId: null, isNew: true, bumps: 0 });
    touched.add(id);
    rebuild.add(id);
    registered.push(...keysFor(strategies.allLead, plan.keyValues, id));
    return results.push("created");
  });
  await matching.repointKeys(tx, strategies.lead.id, repoints);
  const all = [...states.values()];
  await createLeads(tx, job.actor, all.filter((s) => s.isNew), now);
  await leadBatches.updateMergedLeads(
    tx,
    all.filter((s) => !s.isNew && s.bumps > 0).map(({ id, topic, campaign, contactId, bumps }) => ({ id, topic, campaign, contactId, bumps })),
    now,
  );
  await registerAll(tx, registered, { strategyId: strategies.lead.id, owners });
  await announce(tx, log, job.actor, touched, (id) => {
    const lead = states.get(id)!;
    return { isNew: lead.isNew, card: lead.isNew ? newCard(lead, contacts.states, accounts, now) : undefined };
  });
  return { results, rebuild, fresh: freshLeads(all, contacts.states, accounts) };
}

/**
 * New leads whose contact (if any) and accounts are new in this batch too, with those
 * accounts. Nobody outside the batch's transaction can see such records yet, so no
 * interaction can have been recorded for them: their counters are empty without a rebuild.
 */
function freshLeads(all: LeadState[], contacts: Map<string, ContactState>, accounts: Accounts): Map<string, string[]> {
  const fresh = new Map<string, string[]>();
  for (const lead of all) {
    if (!lead.isNew) continue;
    const contact = lead.contactId ? contacts.get(lead.contactId) : undefined;
    if (lead.contactId && !contact?.isNew) continue;
    const scopes = [lead.accountId, contact?.accountId ?? null].filter((a): a is string => a !== null);
    if (scopes.every((a) => accounts.created.has(a))) fresh.set(lead.id, scopes);
  }
  return fresh;
}

/** `LeadService.createInTransaction` for many leads: the default board's first stage, at the bottom, in row order. */
async function createLeads(tx: Tx, actor: Actor, created: LeadState[], now: Date): Promise<void> {
  if (created.length === 0) return;
  const board = await boardsRepo.findDefaultBoard(tx);
  if (!board) throw new Error("there is no default process");
  const [firstStage] = await boardsRepo.listStages(tx, board.processId);
  if (!firstStage) throw new Error(`process ${board.processId} has no stages`);
  // Lock the board row before reading the last rank, so concurrent creations append in turn.
  await boardsRepo.lockBoard(tx, board.id);
  const ranks = ranksAfter(await leadsRepo.lastRankInStage(tx, firstStage.id), created.length);
  await leadBatches.insertLeads(
    tx,
    { processId: board.processId, stageId: firstStage.id, source: "import", at: now },
    created.map((lead, i) => ({
      id: lead.id,
      topic: lead.topic,
      contactId: lead.contactId,
      accountId: lead.accountId,
      campaign: lead.campaign,
      rank: ranks[i]!,
      // A later row of the batch merged into it: as many versions as updates, as row by row.
      version: 1 + lead.bumps,
    })),
  );
  await leadBatches.insertHistoryEntries(
    tx,
    created.map((lead) => lead.id),
    {
      toStageId: firstStage.id,
      reason: actor.kind === "user" ? "manual" : "automation",
      actorId: actor.id,
      actorName: actor.name,
      at: now,
    },
  );
  created.forEach((lead, i) => {
    lead.processId = board.processId;
    lead.place = { stageId: firstStage.id, stage: firstStage.key, rank: ranks[i]! };
  });
}

/**
 * One event per lead the batch created or changed, with its card as the batch leaves it
 * (a lead created and then merged into by a later row is announced once, as created).
 */
async function announce(
  tx: Tx,
  log: EventLog,
  actor: Actor,
  touched: Set<string>,
  known: (id: string) => { isNew: boolean; card: LeadCard | undefined },
): Promise<void> {
  if (touched.size === 0) return;
  const leads = [...touched].map((id) => ({ id, ...known(id) }));
  const read = await leadsRepo.findCardsByIds(tx, leads.filter((l) => !l.card).map((l) => l.id));
  const byBoard = new Map<string, BoardEventDraft[]>();
  const boardOf = new Map<string, string>();
  const eventActor = toEventActor(actor);
  for (const lead of leads) {
    const card = lead.card ?? read.get(lead.id);
    if (!card) throw new Error(`lead ${lead.id} vanished during its import`);
    let boardId = boardOf.get(card.processId);
    if (!boardId) {
      const board = await boardsRepo.findBoardByProcess(tx, card.processId);
      if (!board) throw new Error(`process ${card.processId} has no board`);
      boardOf.set(card.processId, (boardId = board.id));
    }
    const drafts = byBoard.get(boardId) ?? [];
    drafts.push({ type: lead.isNew ? "lead.created" : "lead.updated", actor: eventActor, lead: card });
    byBoard.set(boardId, drafts);
  }
  for (const [boardId, drafts] of byBoard) await log.appendAll(boardId, drafts);
}

/**
 * A new lead's card as `findCards` would read it at the end of the batch, from what the batch
 * knows (its contact's final fields, its account's name); undefined when it knows too little.
 */
function newCard(lead: LeadState, contacts: Map<string, ContactState>, accounts: Accounts, now: Date): LeadCard | undefined {
  const contact = lead.contactId ? contacts.get(lead.contactId) : undefined;
  if ((lead.contactId && !contact) || !lead.place || !lead.processId) return undefined;
  const companyId = lead.accountId ?? contact?.accountId ?? null;
  const companyName = companyId ? accounts.names.get(companyId) : null;
  if (companyName === undefined) return undefined;
  const contactName = contact ? [contact.firstName, contact.lastName].filter((n) => n !== null).join(" ").trim() : "";
  const at = now.toISOString();
  return {
    id: lead.id,
    topic: lead.topic,
    contactId: lead.contactId,
    accountId: lead.accountId,
    contactName: contactName || null,
    companyName,
    processId: lead.processId,
    ...lead.place,
    version: 1 + lead.bumps,
    readyForTeleprospecting: false,
    teleprospectingAccepted: false,
    salesReady: false,
    salesAccepted: false,
    scorable: lead.contactId !== null || lead.accountId !== null,
    ownerId: null,
    ownerName: null,
    campaign: lead.campaign,
    formId: null,
    formName: null,
    // Scores come from the score worker, after commit.
    score: null,
    grade: null,
    scores: [],
    source: "import",
    isTest: false,
    stageEnteredAt: at,
    updatedAt: at,
  };
}
