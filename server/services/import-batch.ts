/**
 * A batch of import rows written with a fixed number of statements, whatever its size.
 *
 * Row by row, intake costs some twenty round trips per row (claim a key, read the match,
 * insert, register keys, lock the board, read the last rank, insert the lead, its history,
 * its card, its event, rebuild its counters...), and an import spent its time waiting on
 * them. Here each step runs once for the whole batch: the match keys of every row are
 * claimed in one statement, the records they point at read in one, the rows then play out
 * in memory in file order, exactly as intake would take them one after the other (two rows
 * with the same email become one contact, the second merged into the first), and the
 * outcome is written with multi-row statements: new accounts, contacts and leads, merged
 * changes, keys, history, events (one append per board), scoring.
 *
 * The caller runs this in a savepoint and falls back to one row at a time when it fails on
 * a row's data, so a bad row is still reported alone.
 */
import { randomUUID } from "node:crypto";
import { matchKey, mergeIncoming } from "../../shared/domain/matching.ts";
import type { ImportRowValues } from "../../shared/schemas/imports.ts";
import type { Tx } from "../db/client.ts";
import * as contactsRepo from "../repositories/contacts.ts";
import * as matching from "../repositories/matching.ts";
import { leadIdsFor, scheduleScoring } from "../repositories/scoring.ts";
import type { EventLog } from "./event-log.ts";
import {
  claim,
  fieldsOf,
  isPersonRow,
  nameKey,
  registerAll,
  type Accounts,
  type BatchContext,
  type ContactFields,
  type ContactOutcome,
  type ContactState,
  type KeyEntry,
  type RowResult,
} from "./import-batch-common.ts";
import { upsertLeads } from "./import-batch-leads.ts";
import { contactFields, keysFor } from "./intake-service.ts";
import { fieldsChanged, rebuildLeads } from "./scoring-counters.ts";

export type { BatchContext, RowResult } from "./import-batch-common.ts";

/** Writes the rows (all valid) in the caller's transaction; each row's outcome in order. */
export async function writeRows(tx: Tx, log: EventLog, job: BatchContext, rows: ImportRowValues[], now: Date): Promise<RowResult[]> {
  const accounts = await resolveAccounts(tx, rows, now);
  const people = job.kind === "contacts" ? rows.map(() => true) : rows.map(isPersonRow);
  const contacts = await upsertContacts(tx, job, rows, people, accounts, now);
  if (job.kind === "contacts") return contacts.results.map((c) => (c?.created ? "created" : "updated"));
  const leads = await upsertLeads(tx, log, job, rows, contacts, accounts, now);
  await rescore(tx, leads.rebuild, contacts.relinked, contacts.changed, now, leads.fresh);
  return leads.results;
}

/** Every company named, found or created (as `findOrCreateAccount`, under the same name locks). */
async function resolveAccounts(tx: Tx, rows: ImportRowValues[], now: Date): Promise<Accounts> {
  const wanted = new Map<string, { name: string; country: string | null }>();
  for (const values of rows) {
    if (!values.company) continue;
    const key = nameKey(values.company);
    // The first row naming a new account gives it its name and country.
    if (!wanted.has(key)) wanted.set(key, { name: values.company.trim(), country: values.country ?? null });
  }
  const accounts: Accounts = { byKey: new Map(), names: new Map(), created: new Set() };
  if (wanted.size === 0) return accounts;
  await matching.lockNames(tx, "account", [...wanted.keys()]);
  const found = await contactsRepo.findAccountsByNames(tx, [...wanted.keys()]);
  for (const [key, a] of found) {
    accounts.byKey.set(key, a.id);
    accounts.names.set(a.id, a.name);
  }
  const created = [...wanted].filter(([key]) => !found.has(key)).map(([key, a]) => ({ key, id: randomUUID(), ...a }));
  await contactsRepo.insertAccounts(
    tx,
    created.map((a) => ({ id: a.id, name: a.name, country: a.country, at: now })),
  );
  for (const a of created) {
    accounts.byKey.set(a.key, a.id);
    accounts.names.set(a.id, a.name);
    accounts.created.add(a.id);
  }
  return accounts;
}

/** `IntakeService.upsertContact` for every row at once. */
async function upsertContacts(
  tx: Tx,
  job: BatchContext,
  rows: ImportRowValues[],
  people: boolean[],
  accounts: Accounts,
  now: Date,
) {
  const strategy = job.strategies.contact;
  const incoming = rows.map((values): ContactFields =>
    contactFields(values, values.company ? accounts.byKey.get(nameKey(values.company))! : null),
  );
  const keys = rows.map((values, i) => (people[i] ? matchKey(strategy.fields, values) : null));
  const ids = rows.map((): string => randomUUID());
  const owners = await claim(tx, strategy, keys, ids);
  const tentative = new Set<string>(ids);
  const known = await contactsRepo.findContacts(tx, [...owners.values()].filter((id) => !tentative.has(id)));

  const states = new Map<string, ContactState>();
  const holders = new Map<string, string>();
  const repoints: Array<{ key: string; recordId: string }> = [];
  const registered: KeyEntry[] = [];
  const relinked = new Map<string, Set<string>>();
  const changed = new Set<string>();
  const results: Array<(ContactOutcome & { created: boolean }) | null> = [];
  const register = (state: ContactState, company: string | undefined) =>
    registered.push(...keysFor(job.strategies.allContact, { ...fieldsOf(state), company: company ?? null }, state.id));

  rows.forEach((values, i) => {
    const given = incoming[i]!;
    const hasIdentity = Object.values(given).some((v) => typeof v === "string" && v.trim() !== "");
    if (!people[i] || !hasIdentity) return results.push(null);
    const key = keys[i];
    const holder = key ? (holders.get(key) ?? owners.get(key)!) : ids[i]!;
    let state = states.get(holder);
    const row = state ? undefined : known.get(holder);
    if (row) states.set(holder, (state = { ...fieldsOf(row), id: row.id, isNew: false, dirty: false }));
    if (state) {
      const changes = mergeIncoming(fieldsOf(state), given);
      if (Object.keys(changes).length > 0) {
        const before = state.accountId;
        Object.assign(state, changes);
        if (!state.isNew) state.dirty = true;
        if (state.accountId !== before) {
          const scopes = relinked.get(state.id) ?? new Set<string>();
          for (const a of [before, state.accountId]) if (a) scopes.add(a);
          relinked.set(state.id, scopes);
        } else changed.add(state.id);
        register(state, values.company);
      }
      return results.push({ id: state.id, email: state.email, accountId: state.accountId, created: false });
    }
    // A new contact; a key left pointing at a contact that no longer exists is ours now.
    const id = ids[i]!;
    if (key && holder !== id) repoints.push({ key, recordId: id });
    if (key) holders.set(key, id);
    const trimmed = Object.fromEntries(
      Object.entries(given).map(([k, v]) => [k, typeof v === "string" ? v.trim() || null : v]),
    ) as ContactFields;
    states.set(id, (state = { ...trimmed, id, isNew: true, dirty: false }));
    register(state, values.company);
    return results.push({ id, email: state.email, accountId: state.accountId, created: true });
  });

  await matching.repointKeys(tx, strategy.id, repoints);
  const all = [...states.values()];
  await contactsRepo.insertContacts(
    tx,
    { source: job.channel.source, at: now },
    all.filter((s) => s.isNew).map(({ isNew: _n, dirty: _d, ...c }) => c),
  );
  await contactsRepo.updateContacts(
    tx,
    all.filter((s) => s.dirty).map(({ isNew: _n, dirty: _d, ...c }) => c),
    now,
  );
  await registerAll(tx, registered, { strategyId: strategy.id, owners });
  if (job.kind === "contacts") await rescore(tx, [], relinked, changed, now);
  return { results, relinked, changed, states };
}

/**
 * Scoring after the batch: new and relinked leads have their counters rebuilt, leads of a
 * contact that moved to another account too (with both accounts' leads), and leads of
 * contacts whose fields changed are evaluated again. A lead as new as its contact and
 * accounts (`fresh`) has nothing to count yet: it is only scheduled, which spares the
 * rebuild's locks and reads when a file brings new people at new companies.
 */
async function rescore(
  tx: Tx,
  leadIds: Iterable<string>,
  relinked: Map<string, Set<string>>,
  changed: Set<string>,
  now: Date,
  fresh: Map<string, string[]> = new Map(),
) {
  const rebuild = new Set(leadIds);
  const scopes: string[] = [];
  const movedInto = new Set<string>();
  if (relinked.size > 0) {
    const accountIds = [...new Set([...relinked.values()].flatMap((s) => [...s]))];
    for (const id of await leadIdsFor(tx, { contactIds: [...relinked.keys()], accountIds })) rebuild.add(id);
    scopes.push(...accountIds, ...relinked.keys());
    for (const a of accountIds) movedInto.add(a);
  }
  // An existing contact that moved to a new account brings its interactions: that account's leads are rebuilt.
  const scheduleOnly = [...rebuild].filter((id) => fresh.get(id)?.every((a) => !movedInto.has(a)));
  for (const id of scheduleOnly) rebuild.delete(id);
  if (scheduleOnly.length > 0) await scheduleScoring(tx, scheduleOnly, now);
  if (rebuild.size > 0) await rebuildLeads(tx, [...rebuild], now, scopes);
  const onlyChanged = [...changed].filter((id) => !relinked.has(id));
  if (onlyChanged.length > 0) await fieldsChanged(tx, { contactIds: onlyChanged }, now);
}
