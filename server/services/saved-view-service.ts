import { allowedViews, viewLabels, type BoardView } from "../../shared/domain/views.ts";
import { DomainError } from "../../shared/errors.ts";
import type { SavedView, SavedViewInput, SavedViewPatch } from "../../shared/schemas/saved-views.ts";
import type { Db } from "../db/client.ts";
import * as savedViewsRepo from "../repositories/saved-views.ts";
import { requirePermission, type Actor } from "./actor.ts";

function toSavedView(row: savedViewsRepo.SavedViewRow): SavedView {
  return {
    ...row,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

function duplicateName(name: string): never {
  throw new DomainError("CONFLICT", `You already have a view named "${name}"; choose another name`, [
    { field: "name", message: "is already the name of one of your views" },
  ]);
}

/**
 * Saved views: a person's named board view, model and filters. Everyone signed in keeps
 * their own; a shared view is listed for everyone, but only its owner edits it (an admin
 * may also delete it). Another person's private view is not found, whoever asks.
 */
export class SavedViewService {
  constructor(private readonly db: Db) {}

  /** The caller's own views and everyone's shared ones whose board view the caller may see, by name. */
  async list(actor: Actor): Promise<SavedView[]> {
    const ownerId = requirePerson(actor);
    const rows = await savedViewsRepo.listVisibleSavedViews(this.db, ownerId);
    return rows.filter((row) => row.ownerId === ownerId || mayUse(actor, row.view)).map(toSavedView);
  }

  async create(actor: Actor, input: SavedViewInput, now: Date): Promise<SavedView> {
    const ownerId = requirePerson(actor);
    const values: savedViewsRepo.SavedViewValues = {
      name: input.name,
      processId: input.processId ?? null,
      view: input.view ?? null,
      modelId: input.modelId ?? null,
      filters: input.filters,
      shared: input.shared ?? false,
    };
    this.checkView(actor, values.view);
    await this.checkProcess(values.processId);
    const id = await savedViewsRepo.insertSavedView(this.db, ownerId, values, now);
    if (id === "duplicate") duplicateName(input.name);
    return toSavedView((await savedViewsRepo.findSavedView(this.db, id))!);
  }

  /** Only the owner edits a view; absent fields stay, `filters` is replaced as a whole. */
  async update(actor: Actor, id: string, patch: SavedViewPatch, now: Date): Promise<SavedView> {
    const ownerId = requirePerson(actor);
    const row = await this.findVisible(ownerId, id);
    if (row.ownerId !== ownerId) throw new DomainError("FORBIDDEN", `Only ${row.ownerName}, who saved this view, may change it`);
    if (patch.view !== undefined) this.checkView(actor, patch.view);
    if (patch.processId) await this.checkProcess(patch.processId);
    const changes: Partial<savedViewsRepo.SavedViewValues> = {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.processId !== undefined ? { processId: patch.processId } : {}),
      ...(patch.view !== undefined ? { view: patch.view } : {}),
      ...(patch.modelId !== undefined ? { modelId: patch.modelId } : {}),
      ...(patch.filters !== undefined ? { filters: patch.filters } : {}),
      ...(patch.shared !== undefined ? { shared: patch.shared } : {}),
    };
    const updated = await savedViewsRepo.updateSavedView(this.db, id, changes, now);
    if (updated === "duplicate") duplicateName(patch.name ?? row.name);
    const after = updated ? await savedViewsRepo.findSavedView(this.db, id) : undefined;
    if (!after) throw new DomainError("NOT_FOUND", "No such saved view");
    return toSavedView(after);
  }

  /** The owner deletes their view; an admin may delete anyone's. */
  async delete(actor: Actor, id: string): Promise<void> {
    const ownerId = requirePerson(actor);
    const admin = actor.role === "admin";
    const row = admin ? await savedViewsRepo.findSavedView(this.db, id) : await this.findVisible(ownerId, id);
    if (!row) throw new DomainError("NOT_FOUND", "No such saved view");
    if (row.ownerId !== ownerId && !admin) {
      throw new DomainError("FORBIDDEN", `Only ${row.ownerName}, who saved this view, or an admin may delete it`);
    }
    if (!(await savedViewsRepo.deleteSavedView(this.db, id))) throw new DomainError("NOT_FOUND", "No such saved view");
  }

  /** A view the caller may know of: their own or a shared one. */
  private async findVisible(ownerId: string, id: string): Promise<savedViewsRepo.SavedViewRow> {
    const row = await savedViewsRepo.findSavedView(this.db, id);
    if (!row || (row.ownerId !== ownerId && !row.shared)) throw new DomainError("NOT_FOUND", "No such saved view");
    return row;
  }

  /** Saving a view one may not open would only fail later, on the board. */
  private checkView(actor: Actor, view: BoardView | null): void {
    if (!mayUse(actor, view)) {
      throw new DomainError("FORBIDDEN", `Your role (${actor.role}) may not see the "${viewLabels[view!]}" view`);
    }
  }

  private async checkProcess(processId: string | null): Promise<void> {
    if (processId && !(await savedViewsRepo.processExists(this.db, processId))) {
      throw new DomainError("INVALID_INPUT", "The input is not valid", [{ field: "processId", message: "is not a process" }]);
    }
  }
}

/** Saved views belong to people: API keys and the system have none. Answers the owner id. */
function requirePerson(actor: Actor): string {
  requirePermission(actor, "board.view");
  if (actor.kind !== "user" || !actor.id) {
    throw new DomainError("FORBIDDEN", "Saved views belong to people: sign in to use them");
  }
  return actor.id;
}

/** Null is the viewer's default view, which every role may see. */
function mayUse(actor: Actor, view: BoardView | null): boolean {
  return view === null || allowedViews(actor.role).includes(view);
}
