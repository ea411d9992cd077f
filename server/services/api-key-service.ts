import { createHash, randomBytes } from "node:crypto";
import { DomainError } from "../../shared/errors.ts";
import type { ApiKeyInput, ApiKeyScope, ApiKeyView } from "../../shared/schemas/api-keys.ts";
import type { Db } from "../db/client.ts";
import * as apiKeysRepo from "../repositories/api-keys.ts";
import { insertAudit } from "../repositories/audit.ts";
import type { ApiKeyRow } from "../repositories/api-keys.ts";
import { requirePermission, type Actor } from "./actor.ts";

/** Every key starts with this, so a leaked one is easy to recognise (and to scan for). */
export const apiKeyMarker = "lpk_";
/** How much of the key is stored in the clear: the marker and 8 random characters. */
const shownPrefixLength = 12;
/** lastUsedAt is a hint for people, not an audit log: one write a minute per key is enough. */
const touchIntervalMs = 60_000;

// Same as sessions: a database leak yields no usable key.
const hashKey = (key: string) => createHash("sha256").update(key).digest("base64url");

function toView(row: ApiKeyRow): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    // Written only through `apiKeyInput`.
    scopes: row.scopes as ApiKeyScope[],
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdBy: row.createdBy,
  };
}

/**
 * An integration acting through a key. What it may do follows its scopes
 * (`scopeActions` in shared/domain/permissions.ts, checked by `requirePermission`); the
 * "viewer" role is only what view rules (board views, lead visibility) read.
 */
function apiKeyActor(row: ApiKeyRow): Actor {
  return { id: null, name: `API key "${row.name}"`, kind: "api", role: "viewer", scopes: row.scopes, apiKeyId: row.id };
}

/** For endpoints integrations call: the actor must be an API key granted `scope`. */
export function requireScope(actor: Actor, scope: ApiKeyScope): void {
  if (actor.kind !== "api" || !actor.scopes?.includes(scope)) {
    throw new DomainError("FORBIDDEN", `This needs an API key with the "${scope}" scope`);
  }
}

export class ApiKeyService {
  constructor(
    private readonly db: Db,
    /** Ends the sockets a key opened (through the adapter, on every node) once it is revoked. */
    private readonly endSockets: (keyId: string) => void = () => {},
  ) {}

  /** The key itself is in this answer only; afterwards only its hash and prefix exist. */
  async create(actor: Actor, input: ApiKeyInput, now: Date): Promise<{ key: string; apiKey: ApiKeyView }> {
    requirePermission(actor, "api_key.manage");
    const key = apiKeyMarker + randomBytes(32).toString("base64url");
    // The audit entry names the key and its scopes, never the key itself.
    const row = await this.db.transaction(async (tx) => {
      const inserted = await apiKeysRepo.insertApiKey(
        tx,
        {
          name: input.name,
          keyHash: hashKey(key),
          prefix: key.slice(0, shownPrefixLength),
          scopes: input.scopes,
          createdBy: actor.kind === "user" ? actor.id : null,
        },
        now,
      );
      await insertAudit(tx, {
        actor,
        action: "api_key.created",
        target: { type: "api_key", id: inserted.id, name: inserted.name },
        details: { scopes: inserted.scopes },
        at: now,
      });
      return inserted;
    });
    return { key, apiKey: toView(row) };
  }

  /** Revoked keys too, so people can see what was cut off and when. */
  async list(actor: Actor): Promise<ApiKeyView[]> {
    requirePermission(actor, "api_key.manage");
    return (await apiKeysRepo.listApiKeys(this.db)).map(toView);
  }

  /** Idempotent: revoking a revoked key answers it as it is, with its first revocation time. */
  async revoke(actor: Actor, id: string, now: Date): Promise<ApiKeyView> {
    requirePermission(actor, "api_key.manage");
    const row = await this.db.transaction(async (tx) => {
      const revoked = await apiKeysRepo.revokeApiKey(tx, id, now);
      // Only the first revocation is an action worth recording.
      if (!revoked) return apiKeysRepo.findApiKey(tx, id);
      await insertAudit(tx, {
        actor,
        action: "api_key.revoked",
        target: { type: "api_key", id: revoked.id, name: revoked.name },
        at: now,
      });
      return revoked;
    });
    if (!row) throw new DomainError("NOT_FOUND", "No such API key");
    this.endSockets(row.id);
    return toView(row);
  }

  /** The actor behind a bearer token, or undefined when no live key has it. */
  async authenticate(token: string, now: Date): Promise<Actor | undefined> {
    const row = await apiKeysRepo.findActiveApiKeyByHash(this.db, hashKey(token));
    if (!row) return undefined;
    const notAfter = new Date(now.getTime() - touchIntervalMs);
    if (!row.lastUsedAt || row.lastUsedAt < notAfter) {
      await apiKeysRepo.touchApiKey(this.db, row.id, now, notAfter);
    }
    return apiKeyActor(row);
  }
}
