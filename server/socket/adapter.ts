/**
 * Cross-node Socket.IO: the maintained PostgreSQL adapter shares rooms, broadcasts and
 * `fetchSockets` between every node connected to the same database (LISTEN/NOTIFY).
 * Only for a PostgreSQL server: an embedded PGlite database belongs to one process.
 */
import { createAdapter } from "@socket.io/postgres-adapter";
import pg from "pg";
import type { Logger } from "pino";
import type { BoardServer } from "./board-socket.ts";

export interface PostgresAdapterConfig {
  /** The PostgreSQL server the nodes share (the app's DATABASE_URL). */
  url: string;
  /** How often a node says it is alive; one unheard of for twice as long is dropped. Default 5 s. */
  heartbeatMs?: number;
}

export interface SocketAdapter {
  /** Ends the adapter's connections; call after `io.close()` (which closes the adapter itself). */
  close(): Promise<void>;
}

/** NOTIFY carries at most 8000 bytes; larger messages go through this table (the adapter's default name). */
const attachmentsTable = "socket_io_attachments";
const listenWaitMs = 5_000;
const drainWaitMs = 2_000;

export async function attachPostgresAdapter(
  io: BoardServer,
  config: PostgresAdapterConfig,
  logger: Logger,
): Promise<SocketAdapter> {
  // One connection stays in LISTEN; the others publish and answer the adapter's queries.
  const pool = new pg.Pool({ connectionString: config.url, max: 4, connectionTimeoutMillis: 5_000 });
  pool.on("error", (err) => logger.warn({ err }, "socket adapter: a PostgreSQL connection failed"));
  try {
    await ensureAttachmentsTable(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const heartbeatMs = config.heartbeatMs ?? 5_000;
  io.adapter(
    createAdapter(pool, {
      tableName: attachmentsTable,
      heartbeatInterval: heartbeatMs,
      heartbeatTimeout: heartbeatMs * 2,
      errorHandler: (err) => logger.warn({ err }, "socket adapter: could not exchange a message with other nodes"),
    }),
  );
  await announceOnceListening(io, logger);
  return {
    async close() {
      // io.close() published this node's goodbye and released the LISTEN connection; let pending queries finish.
      const deadline = Date.now() + drainWaitMs;
      while ((pool.waitingCount > 0 || pool.totalCount > pool.idleCount) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await pool.end();
    },
  };
}

/** The adapter's own table, created by the adapter's owner as its documentation asks (not a domain table). */
async function ensureAttachmentsTable(pool: pg.Pool): Promise<void> {
  try {
    await pool.query(
      `create table if not exists ${attachmentsTable} (id bigserial unique, created_at timestamptz default now(), payload bytea)`,
    );
  } catch (err) {
    // Two nodes starting together can race on "if not exists"; the loser finds the table made.
    const code = (err as { code?: string }).code;
    if (code !== "23505" && code !== "42P07") throw err;
  }
}

/**
 * A node learns of the others from their answer to its first heartbeat, but the adapter
 * sends that heartbeat before its LISTEN connection is up, so the answers can be missed
 * and the node would see only itself until the next heartbeat. Once it listens, announce
 * it again. The adapter does not say when it listens; this reads its (private) client and,
 * if that ever changes shape, simply waits out the timeout: heartbeats still converge.
 */
async function announceOnceListening(io: BoardServer, logger: Logger): Promise<void> {
  const adapter = io.of("/").adapter as unknown as { client?: { client?: unknown }; init(): void };
  const deadline = Date.now() + listenWaitMs;
  while (!adapter.client?.client) {
    if (Date.now() > deadline) {
      logger.warn("socket adapter: not listening yet; other nodes will be found at the next heartbeat");
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  adapter.init();
}
