import { createHash, randomBytes } from "node:crypto";
import type { BoardView } from "../../shared/domain/views.ts";
import { DomainError } from "../../shared/errors.ts";
import type {
  DisplayScreen,
  DisplayTokenCreated,
  DisplayTokenInput,
  DisplayTokenView,
  WallConfig,
} from "../../shared/schemas/display-tokens.ts";
import type { BoardFilters } from "../../shared/schemas/saved-views.ts";
import type { Db, Executor } from "../db/client.ts";
import { insertAudit } from "../repositories/audit.ts";
import { findDefaultBoard } from "../repositories/boards.ts";
import * as tokensRepo from "../repositories/display-tokens.ts";
import type { DisplayTokenRow } from "../repositories/display-tokens.ts";
import { findSavedView } from "../repositories/saved-views.ts";
import { requirePermission, type Actor } from "./actor.ts";

/** Every display token starts with this, so a leaked one is easy to recognise (and to scan for). */
export const displayTokenMarker = "lpd_";
/** How much of the token is stored in the clear: the marker and 8 random characters. */
const shownPrefixLength = 12;
/** lastSeenAt tells admins a wall is alive; one write a minute per display is plenty. */
const touchIntervalMs = 60_000;

// As sessions and API keys: a database leak yields no usable wall URL.
const hashToken = (token: string) => createHash("sha256").update(token).digest("base64url");

function toView(row: DisplayTokenRow): DisplayTokenView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    screens: row.screens,
    rotateSeconds: row.rotateSeconds,
    sound: row.sound,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
  };
}

/** A wall display as the socket layer knows it: what it may watch, and what it shows. */
export interface DisplaySession {
  actor: Actor;
  config: WallConfig;
}

export interface DisplayTokenServiceOptions {
  /** Ends the display's open sockets (every node), after its revocation committed. */
  endSockets?: (tokenId: string) => void;
}

/**
 * Wall displays: an admin names the screens (a board, a view, optionally a shared saved
 * view's filters); the display authenticates with the token in its URL and may only watch
 * those screens. The token is shown once and stored as a hash; it does not expire, and
 * revoking it ends the display's sockets at once.
 */
export class DisplayTokenService {
  /** When this node last recorded each display as seen (a handful of walls: never large). */
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly options: DisplayTokenServiceOptions = {},
  ) {}

  /** `origin` is where the app is served (scheme and host), for the wall's URL. */
  async create(actor: Actor, input: DisplayTokenInput, origin: string, now: Date): Promise<DisplayTokenCreated> {
    requirePermission(actor, "display_token.manage");
    const token = displayTokenMarker + randomBytes(32).toString("base64url");
    const row = await this.db.transaction(async (tx) => {
      const screens = await resolveScreens(tx, actor, input.screens);
      const inserted = await tokensRepo.insertDisplayToken(
        tx,
        {
          name: input.name,
          tokenHash: hashToken(token),
          prefix: token.slice(0, shownPrefixLength),
          screens,
          rotateSeconds: input.rotateSeconds ?? null,
          sound: input.sound ?? false,
          createdBy: actor.kind === "user" ? actor.id : null,
        },
        now,
      );
      await insertAudit(tx, {
        actor,
        action: "display_token.created",
        target: { type: "display_token", id: inserted.id, name: inserted.name },
        details: { screens: screens.length, names: screens.map((s) => s.label) },
        at: now,
      });
      return inserted;
    });
    return { token, url: `${origin}/wall/${token}`, displayToken: toView(row) };
  }

  /** Revoked ones too, so admins can see which wall was cut off and when. */
  async list(actor: Actor): Promise<DisplayTokenView[]> {
    requirePermission(actor, "display_token.manage");
    return (await tokensRepo.listDisplayTokens(this.db)).map(toView);
  }

  /**
   * Idempotent: revoking a revoked token answers it as it is, with its first revocation
   * time (and records nothing new). Either way the display's sockets are ended.
   */
  async revoke(actor: Actor, id: string, now: Date): Promise<DisplayTokenView> {
    requirePermission(actor, "display_token.manage");
    const row = await this.db.transaction(async (tx) => {
      const revoked = await tokensRepo.revokeDisplayToken(tx, id, now);
      if (!revoked) return tokensRepo.findDisplayToken(tx, id);
      await insertAudit(tx, {
        actor,
        action: "display_token.revoked",
        target: { type: "display_token", id: revoked.id, name: revoked.name },
        at: now,
      });
      return revoked;
    });
    if (!row) throw new DomainError("NOT_FOUND", "No such display token");
    this.options.endSockets?.(row.id);
    return toView(row);
  }

  /** The display behind a token, or undefined when no live token has it. */
  async authenticate(token: string, now: Date): Promise<DisplaySession | undefined> {
    const row = await tokensRepo.findLiveDisplayTokenByHash(this.db, hashToken(token));
    if (!row) return undefined;
    await this.touch(row, now);
    const found = await tokensRepo.boardsOfProcesses(this.db, row.screens.map((s) => s.processId));
    const boardOf = new Map(found.map((p) => [p.processId, p.boardId]));
    // A screen whose board is gone is left out rather than shown broken.
    const screens = row.screens.filter((s) => boardOf.has(s.processId));
    const boards: Record<string, BoardView[]> = {};
    for (const screen of screens) {
      const boardId = boardOf.get(screen.processId)!;
      const views = (boards[boardId] ??= []);
      if (!views.includes(screen.view)) views.push(screen.view);
    }
    return {
      actor: {
        id: null,
        name: `Wall display "${row.name}"`,
        kind: "display",
        role: "viewer",
        display: { tokenId: row.id, screens, boards },
      },
      config: { name: row.name, screens, rotateSeconds: row.rotateSeconds, sound: row.sound },
    };
  }

  /**
   * The display is alive (it connected, or asked for figures): recorded at most once a
   * minute, and asked of the database at most once a minute per node.
   */
  async seen(tokenId: string, now: Date): Promise<void> {
    const notAfter = now.getTime() - touchIntervalMs;
    if ((this.touched.get(tokenId) ?? -Infinity) > notAfter) return;
    this.touched.set(tokenId, now.getTime());
    await tokensRepo.touchDisplayToken(this.db, tokenId, now, new Date(notAfter));
  }

  private async touch(row: DisplayTokenRow, now: Date): Promise<void> {
    if (row.lastSeenAt && row.lastSeenAt.getTime() > now.getTime() - touchIntervalMs) return;
    await this.seen(row.id, now);
  }
}

type ScreenInput = DisplayTokenInput["screens"][number];

/**
 * Resolves each screen against the database: its process must exist; a saved view must be
 * shared (or the admin's own) and of the same board, and lends its view, filters and name.
 * Every problem is reported at once, by field; nothing is stored when there is any.
 */
async function resolveScreens(db: Executor, actor: Actor, inputs: readonly ScreenInput[]): Promise<DisplayScreen[]> {
  const processes = new Map(
    (await tokensRepo.boardsOfProcesses(db, inputs.map((s) => s.processId))).map((p) => [p.processId, p]),
  );
  let defaultProcessId: string | undefined;
  const problems: Array<{ field: string; message: string }> = [];
  const screens: DisplayScreen[] = [];
  for (const [i, input] of inputs.entries()) {
    const at = (field: string) => `screens.${i}.${field}`;
    const process = processes.get(input.processId);
    if (!process) {
      problems.push({ field: at("processId"), message: "is not a process" });
      continue;
    }
    let view: BoardView = input.view ?? "all";
    let filters: BoardFilters = {};
    let label = input.label ?? process.processName;
    if (input.savedViewId !== undefined) {
      const saved = await findSavedView(db, input.savedViewId);
      // Someone else's private view answers like a missing one: its existence is theirs.
      if (!saved || !(saved.shared || saved.ownerId === actor.id)) {
        problems.push({ field: at("savedViewId"), message: "is not a shared saved view" });
        continue;
      }
      defaultProcessId ??= (await findDefaultBoard(db))?.processId;
      if ((saved.processId ?? defaultProcessId) !== input.processId) {
        problems.push({ field: at("savedViewId"), message: "is a saved view of another board" });
        continue;
      }
      if (saved.view !== null && input.view !== undefined && saved.view !== input.view) {
        problems.push({ field: at("view"), message: `differs from the saved view's view ("${saved.view}")` });
        continue;
      }
      view = saved.view ?? view;
      // "Me" meant the view's owner; the wall is nobody, so it keeps the owner it meant.
      filters = saved.filters.owner === "me" ? { ...saved.filters, owner: saved.ownerId } : saved.filters;
      label = input.label ?? saved.name;
    }
    if (view === "my_leads") {
      problems.push({
        field: at(input.view === undefined ? "savedViewId" : "view"),
        message: 'a wall display has no leads of its own: "my_leads" shows it nothing',
      });
      continue;
    }
    screens.push({ processId: input.processId, view, filters, label });
  }
  if (problems.length > 0) throw new DomainError("INVALID_INPUT", "Some screens are not valid", problems);
  return screens;
}
