/**
 * One node's follower of the board event log when several nodes share a PostgreSQL
 * server: a LISTEN on `board_events` wakes it as soon as another node commits, and a
 * poll of `boards.last_seq` catches whatever a notification failed to announce (a
 * dropped LISTEN connection, a writer that did not notify). So a lost notification
 * costs latency, never an event.
 */
import pg from "pg";
import type { Logger } from "pino";
import type { Db } from "../db/client.ts";
import { boardEventsChannel, boardLastSeqs } from "../repositories/boards.ts";
import type { BoardFanout } from "./board-fanout.ts";

/** The LISTEN connection's name in pg_stat_activity, for operators (and tests) to find it. */
export const followerApplicationName = "lpb-board-follower";

export interface BoardFollowerOptions {
  /** How often to compare every board's last seq with what this node delivered. Default 1 s. */
  pollMs?: number;
  /** Wait before re-opening a LISTEN connection that failed. Default 1 s. */
  reconnectMs?: number;
  /** Decides whether a notification is acted on; tests drop some to stand for lost ones. */
  acceptNotification?: (boardId: string, seq: number) => boolean;
}

export class BoardFollower {
  private client: pg.Client | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly deps: { url: string; db: Db; fanout: BoardFanout; logger: Logger },
    private readonly options: BoardFollowerOptions = {},
  ) {}

  /** Listens (retrying in the background if the server refuses) and starts the poll. */
  async start(): Promise<void> {
    await this.listen();
    this.schedulePoll();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    await this.polling;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  /** True while the LISTEN connection is up (tests and health reporting). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: this.deps.url,
      connectionTimeoutMillis: 5_000,
      application_name: followerApplicationName,
    });
    const lost = (err?: unknown) => {
      if (this.client !== client) return;
      this.client = undefined;
      if (this.closed) return;
      this.deps.logger.warn({ err }, "board follower: LISTEN connection lost; polling until it is back");
      void client.end().catch(() => {});
      this.reconnectTimer = setTimeout(() => void this.listen(), this.options.reconnectMs ?? 1_000);
    };
    client.on("notification", (message) => {
      if (message.channel === boardEventsChannel && message.payload) this.notified(message.payload);
    });
    client.on("error", lost);
    client.on("end", () => lost());
    try {
      await client.connect();
      await client.query(`listen ${boardEventsChannel}`);
    } catch (err) {
      client.removeAllListeners("end");
      client.on("error", () => {});
      void client.end().catch(() => {});
      if (this.closed) return;
      this.deps.logger.warn({ err }, "board follower: could not LISTEN; polling and retrying");
      this.reconnectTimer = setTimeout(() => void this.listen(), this.options.reconnectMs ?? 1_000);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    // Whatever was committed while nobody listened is read now, not at the next poll.
    void this.poll();
  }

  private notified(payload: string): void {
    const at = payload.lastIndexOf(":");
    const boardId = payload.slice(0, at);
    const seq = Number(payload.slice(at + 1));
    if (at <= 0 || !Number.isInteger(seq)) return;
    if (this.options.acceptNotification && !this.options.acceptNotification(boardId, seq)) return;
    if (seq <= (this.deps.fanout.lastDelivered(boardId) ?? 0)) return;
    void this.deps.fanout.catchUp(boardId);
  }

  private schedulePoll(): void {
    if (this.closed) return;
    this.pollTimer = setTimeout(async () => {
      await this.poll();
      this.schedulePoll();
    }, this.options.pollMs ?? 1_000);
  }

  /** Catches up every board whose committed last seq is past what this node delivered. */
  private poll(): Promise<void> {
    if (this.polling || this.closed) return this.polling ?? Promise.resolve();
    this.polling = (async () => {
      try {
        for (const board of await boardLastSeqs(this.deps.db)) {
          if (board.lastSeq > (this.deps.fanout.lastDelivered(board.id) ?? 0)) void this.deps.fanout.catchUp(board.id);
        }
      } catch (err) {
        this.deps.logger.warn({ err }, "board follower: could not poll the event log; retrying");
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }
}
