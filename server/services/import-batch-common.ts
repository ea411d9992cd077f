/** What the batch writer's steps share: the batch, its accounts and contacts, and key claims. */
import type { ImportKind } from "../../shared/domain/csv-columns.ts";
import type { ImportRowValues } from "../../shared/schemas/imports.ts";
import type { Tx } from "../db/client.ts";
import type * as contactsRepo from "../repositories/contacts.ts";
import * as matching from "../repositories/matching.ts";
import type { Strategy } from "../repositories/matching.ts";
import type { Actor } from "./actor.ts";
import type { IntakeChannel, IntakeStrategies } from "./intake-service.ts";

export interface BatchContext {
  kind: ImportKind;
  actor: Actor;
  strategies: IntakeStrategies;
  channel: IntakeChannel;
}

export type RowResult = "created" | "updated";

export type KeyEntry = { strategyId: string; key: string; recordId: string };
export type ContactFields = Required<contactsRepo.ContactChanges>;
export interface ContactState extends ContactFields {
  id: string;
  isNew: boolean;
  dirty: boolean;
}
export interface ContactOutcome {
  id: string;
  email: string | null;
  accountId: string | null;
}

/** The batch's accounts: by lower-cased name, their names by id, and which the batch created. */
export interface Accounts {
  byKey: Map<string, string>;
  names: Map<string, string>;
  created: Set<string>;
}

export const nameKey = (name: string) => name.trim().toLowerCase();
export const fieldsOf = (c: ContactFields): ContactFields => ({
  email: c.email,
  firstName: c.firstName,
  lastName: c.lastName,
  jobTitle: c.jobTitle,
  phone: c.phone,
  country: c.country,
  accountId: c.accountId,
});
export const isPersonRow = (values: ImportRowValues) => Boolean(values.email || values.firstName || values.lastName);

/**
 * Claims each distinct key of one strategy for the first row holding it (its tentative
 * record id), and answers who holds each key now.
 */
export async function claim(tx: Tx, strategy: Strategy, keys: Array<string | null>, ids: string[]): Promise<Map<string, string>> {
  const first = new Map<string, string>();
  keys.forEach((key, i) => {
    if (key && !first.has(key)) first.set(key, ids[i]!);
  });
  return matching.claimKeys(tx, strategy.id, [...first].map(([key, recordId]) => ({ key, recordId })));
}

/** Registers keys once each, the first record to offer a key getting it (as one insert per row would). */
export async function registerAll(tx: Tx, entries: KeyEntry[], claimed: { strategyId: string; owners: Map<string, string> }): Promise<void> {
  const seen = new Set<string>();
  const unique = entries.filter((e) => {
    const id = `${e.strategyId}\n${e.key}`;
    if (seen.has(id)) return false;
    // The key the row claimed is already its record's: inserting it again would only conflict.
    if (e.strategyId === claimed.strategyId && claimed.owners.has(e.key)) return false;
    seen.add(id);
    return true;
  });
  for (let i = 0; i < unique.length; i += 5_000) await matching.registerKeys(tx, unique.slice(i, i + 5_000));
}
