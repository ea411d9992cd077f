import { io as connect, type Socket } from "socket.io-client";
import { createApp, type App } from "../../server/app.ts";
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

/** The real app on 127.0.0.1, port 0. */
export async function startTestServer(database: Database, clientDir?: string): Promise<TestServer> {
  const app = await createApp({ database, logger: silentLogger, ...(clientDir ? { clientDir } : {}) });
  const { url } = await app.listen(0, "127.0.0.1");
  return { app, url, close: () => app.close() };
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
