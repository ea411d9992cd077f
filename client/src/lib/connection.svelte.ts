/**
 * The board's connection: the one socket, its commands and broadcasts, and its state.
 * The Reconnector drives the socket (backoff with full jitter, forever); this class turns
 * what it knows into the status the page shows.
 */
import type { Socket } from "socket.io-client";
import type { Ack } from "../../../shared/errors.ts";
import type { ClientToServerEvents, ServerToClientEvents } from "../../../shared/events.ts";
import {
  connectionStatus,
  delayFor,
  Reconnector,
  type BackoffPolicy,
  type ConnectionStatus,
  type NetworkEvents,
} from "./reconnect.ts";

export type { ConnectionStatus } from "./reconnect.ts";
export type BoardSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

type Done<T> = (err: Error | null, res: Ack<T>) => void;
type LooseEmitter = { on(e: string, f: unknown): unknown; off(e: string, f: unknown): unknown };

export interface ConnectionOptions {
  /** The socket is up: the board catches up (join or resync). */
  onConnect: () => void;
  /** The socket went down: answers of the old connection must be ignored. */
  onDisconnect: () => void;
  /** The server refused the session: retrying will not help, the app shows the login page. */
  onUnauthenticated: () => void;
  policy?: BackoffPolicy;
}

export class Connection {
  status = $state<ConnectionStatus>("connecting");
  /** When the next attempt is due (ms since the epoch), or null: connected, or an attempt is under way. */
  reconnectAt = $state<number | null>(null);
  /** Failed attempts since the last successful connection. */
  attempt = $state(0);

  readonly #socket: BoardSocket;
  readonly #driver: Reconnector;
  readonly #network: NetworkEvents | null;
  #everConnected = false;
  /** Failed commands in a row that are retried (syncs): their retries back off like reconnects. */
  #failures = 0;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(socket: BoardSocket, options: ConnectionOptions) {
    this.#socket = socket;
    const win = (globalThis as { window?: NetworkEvents }).window;
    this.#network = win ?? null;
    this.#driver = new Reconnector(socket, {
      ...(options.policy ? { policy: options.policy } : {}),
      network: this.#network,
      onChange: () => this.#refresh(),
      onConnect: () => {
        this.#everConnected = true;
        this.#failures = 0;
        this.#refresh();
        options.onConnect();
      },
      onDisconnect: () => {
        // Retries belong to the connection that failed; the next one catches up from scratch.
        this.#clearTimers();
        this.#refresh();
        options.onDisconnect();
      },
      onFatal: () => options.onUnauthenticated(),
    });
  }

  get connected(): boolean {
    return this.#driver.connected;
  }

  start(): void {
    this.#driver.start();
    this.#refresh();
  }

  /** Closes the socket for good and forgets every listener. */
  stop(): void {
    this.#clearTimers();
    this.#driver.stop();
    this.#socket.removeAllListeners();
  }

  /**
   * Sends a command and resolves with its acknowledgement; rejects when offline or when
   * no answer comes within `timeoutMs` (the command may still have been applied).
   */
  ask<T>(event: keyof ClientToServerEvents, payload: unknown, timeoutMs: number): Promise<Ack<T>> {
    if (!this.#socket.connected) return Promise.reject(new Error("offline"));
    const emitter = this.#socket.timeout(timeoutMs);
    // The event maps type each command's payload and ack; this one entry point takes any of them.
    const emit = emitter.emit as unknown as (e: string, p: unknown, done: Done<T>) => void;
    return new Promise((resolve, reject) =>
      emit.call(emitter, event, payload, (err, res) => (err ? reject(err) : resolve(res))),
    );
  }

  /**
   * Runs `fn` after the next backoff delay, if this socket is still connected then: a sync
   * that failed is retried without hammering a server that is busy catching up with everyone.
   */
  retryLater(fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (this.#driver.connected) fn();
    }, delayFor(this.#failures++));
    this.#timers.add(timer);
  }

  /** A retried command succeeded: the next failure starts the backoff afresh. */
  settled(): void {
    this.#failures = 0;
  }

  /** Listens to a broadcast of the server. Returns an unsubscribe. */
  on<E extends keyof ServerToClientEvents>(event: E, fn: ServerToClientEvents[E]): () => void {
    const socket = this.#socket as unknown as LooseEmitter;
    socket.on(event, fn);
    return () => socket.off(event, fn);
  }

  /** The banner's "Retry now". */
  retryNow(): void {
    this.#driver.retryNow();
    this.#refresh();
  }

  #clearTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #refresh(): void {
    const d = this.#driver;
    this.attempt = d.attempt;
    this.reconnectAt = d.connected ? null : d.nextAttemptAt;
    this.status = connectionStatus({
      connected: d.connected,
      fatal: d.fatal !== null,
      browserOffline: typeof navigator !== "undefined" && navigator.onLine === false,
      attempt: d.attempt,
      everConnected: this.#everConnected,
    });
  }
}
