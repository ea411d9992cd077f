import { DomainError } from "../../shared/errors.ts";
import { issuesToDetails } from "../../shared/schemas/common.ts";
import {
  segmentQuery,
  type SegmentInput,
  type SegmentPage,
  type SegmentPatch,
  type SegmentQuery,
} from "../../shared/schemas/segments.ts";
import type { Db } from "../db/client.ts";
import * as segmentsRepo from "../repositories/segments.ts";
import type { SegmentResolution, SegmentRow } from "../repositories/segments.ts";
import { requirePermission, type Actor } from "./actor.ts";

export interface SegmentView {
  id: string;
  name: string;
  query: SegmentQuery;
  createdAt: string;
  updatedAt: string;
}

/** A segment with how many contacts it yields now; null when its saved query no longer validates. */
export interface SegmentDetail extends SegmentView {
  count: number | null;
}

/** How many members a preview shows: enough to judge a query while editing it. */
export const previewSize = 50;

// Reading segments needs what reading the board needs; editing them is marketing's work.
const readAction = "board.view";
const writeAction = "segment.manage";

function toView(row: SegmentRow): SegmentView {
  return {
    id: row.id,
    name: row.name,
    // Written only through `segmentQuery`; members() validates it again before use.
    query: row.query as SegmentQuery,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

export class SegmentService {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(actor: Actor): Promise<SegmentView[]> {
    requirePermission(actor, readAction);
    return (await segmentsRepo.listSegments(this.db)).map(toView);
  }

  async get(actor: Actor, segmentId: string): Promise<SegmentDetail> {
    requirePermission(actor, readAction);
    const row = await this.find(segmentId);
    // A query saved under older field rules still loads, so it can be opened and fixed.
    const saved = segmentQuery.safeParse(row.query);
    const count = saved.success ? await segmentsRepo.countSegment(this.db, saved.data) : null;
    return { ...toView(row), count };
  }

  async create(actor: Actor, input: SegmentInput): Promise<SegmentView> {
    requirePermission(actor, writeAction);
    await this.checkStageKeys(input.query, "query");
    return toView(await segmentsRepo.insertSegment(this.db, input, this.now()));
  }

  async update(actor: Actor, segmentId: string, patch: SegmentPatch): Promise<SegmentView> {
    requirePermission(actor, writeAction);
    if (patch.query) await this.checkStageKeys(patch.query, "query");
    const changes = {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.query !== undefined ? { query: patch.query } : {}),
    };
    const row = await segmentsRepo.updateSegment(this.db, segmentId, changes, this.now());
    if (!row) throw new DomainError("NOT_FOUND", "No such segment");
    return toView(row);
  }

  async delete(actor: Actor, segmentId: string): Promise<void> {
    requirePermission(actor, writeAction);
    if (!(await segmentsRepo.deleteSegment(this.db, segmentId))) throw new DomainError("NOT_FOUND", "No such segment");
  }

  /** What a query would yield, without saving anything: the editor calls this as the query changes. */
  async preview(actor: Actor, query: SegmentQuery): Promise<SegmentResolution> {
    requirePermission(actor, readAction);
    await this.checkStageKeys(query, "query");
    return segmentsRepo.resolveSegment(this.db, query, { limit: previewSize, offset: 0 });
  }

  async members(actor: Actor, segmentId: string, page: SegmentPage): Promise<SegmentResolution> {
    requirePermission(actor, readAction);
    const row = await this.find(segmentId);
    const saved = segmentQuery.safeParse(row.query);
    if (!saved.success) {
      throw new DomainError(
        "CONFLICT",
        "This segment's saved query is no longer valid; edit its query",
        issuesToDetails(saved.error).map((d) => ({ ...d, field: `query.${d.field}` })),
      );
    }
    return segmentsRepo.resolveSegment(this.db, saved.data, page);
  }

  private async find(segmentId: string): Promise<SegmentRow> {
    const row = await segmentsRepo.findSegment(this.db, segmentId);
    if (!row) throw new DomainError("NOT_FOUND", "No such segment");
    return row;
  }

  /**
   * Stage keys belong to processes, not to the shared schema, so they are checked here:
   * a mistyped key would otherwise silently match nothing.
   */
  private async checkStageKeys(query: SegmentQuery, prefix: string): Promise<void> {
    if (query.from !== "leads") return;
    const used = query.where.flatMap((c, index) => {
      if (c.field !== "stage" || c.value === undefined || typeof c.value === "boolean") return [];
      const values = Array.isArray(c.value) ? c.value : [c.value];
      return values.map((value, i) => ({ key: String(value), path: Array.isArray(c.value) ? `.${i}` : "", index }));
    });
    if (used.length === 0) return;
    const known = await segmentsRepo.existingStageKeys(this.db, [...new Set(used.map((u) => u.key))]);
    const details = used
      .filter((u) => !known.has(u.key))
      .map((u) => ({ field: `${prefix}.where.${u.index}.value${u.path}`, message: `no stage has the key "${u.key}"` }));
    if (details.length > 0) throw new DomainError("INVALID_INPUT", "The input is not valid", details);
  }
}
