import { io as connect, type Socket } from "socket.io-client";
import { createApp, type App, type AppDeps } from "../../server/app.ts";
import type { Database } from "../../server/db/client.ts";
import type { ClientToServerEvents, ServerToClientEvents } from "../../shared/events.ts";
import type { Ack } from "../../shared/errors.ts";
import type { BoardEvent } from "../../shared/board.ts";
import { silentLogger, testPassword } from "./builders.ts";

export type TestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestServer {
  app: App;
  url: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Listen on this port (a restart reuses the first one's); default: any free port. */
  port?: number;
  /** More of the app's dependencies (e.g. scoring options). */
  deps?: Partial<Omit<AppDeps, "database" | "logger">>;
  /** Runs after the app is built and before it listens (e.g. to instrument its services). */
  beforeListen?: (app: App) => void;
}

/** The real app on 127.0.0.1, port 0 unless told otherwise. */
export async function startTestServer(database: Database, clientDir?: string, options: TestServerOptions = {}): Promise<TestServer> {
  const app = await createApp({ database, logger: silentLogger, ...(clientDir ? { clientDir } : {}), ...options.deps });
  options.beforeListen?.(app);
  const { url } = await listenRetrying(app, options.port ?? 0);
  return { app, url, close: () => app.close() };
}

/** The port a test server listens on. */
export function portOf(server: TestServer): number {
  return Number(new URL(server.url).port);
}

/**
 * A server restart: the same database, a new app on the same port. `whileDown` runs after
 * the old app has closed and before the new one listens (e.g. commits made meanwhile).
 */
export async function restartTestServer(
  server: TestServer,
  database: Database,
  clientDir?: string,
  options: TestServerOptions & { whileDown?: () => Promise<void> } = {},
): Promise<TestServer> {
  const port = portOf(server);
  await server.close();
  await options.whileDown?.();
  return startTestServer(database, clientDir, { ...options, port });
}

/** The port of a server that just closed can take a moment to free up: retry EADDRINUSE briefly. */
async function listenRetrying(app: App, port: number): Promise<{ port: number; url: string }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await app.listen(port, "127.0.0.1");
    } catch (err) {
      if ((err as { code?: string }).code !== "EADDRINUSE" || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Signs in over HTTP and returns the session cookie header. */
export async function login(url: string, email: string, password = testPassword): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.get("set-cookie");
  if (!cookie) throw new Error("login set no cookie");
  return cookie.split(";")[0]!;
}

export function connectSocket(url: string, cookie?: string): TestSocket {
  return connect(url, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    extraHeaders: cookie ? { cookie } : {},
  });
}

export function waitForConnect(socket: TestSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
}

/** Emits a command and resolves with its acknowledgement. */
export function request<T>(socket: TestSocket, event: keyof ClientToServerEvents, payload: unknown): Promise<Ack<T>> {
  return (socket.timeout(10_000).emitWithAck as (e: string, p: unknown) => Promise<Ack<T>>)(event, payload);
}

/** Collects `board:event`s received by a socket. */
export function collectEvents(socket: TestSocket): BoardEvent[] {
  const events: BoardEvent[] = [];
  socket.on("board:event", (e) => events.push(e));
  return events;
}

export async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}
