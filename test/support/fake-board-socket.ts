/**
 * A stand-in for the board's socket.io-client socket in unit tests of BoardState: records
 * every command sent (with its ack callback and timeout) and fires events on demand.
 */
type Handler = (...args: unknown[]) => void;

export interface SentCommand {
  ev: string;
  payload: Record<string, unknown>;
  cb: Handler;
  ms: number;
}

export class FakeBoardSocket {
  handlers = new Map<string, Handler[]>();
  connected = false;
  active = true;
  sent: SentCommand[] = [];
  connects = 0;
  on(ev: string, h: Handler) {
    (this.handlers.get(ev) ?? this.handlers.set(ev, []).get(ev)!).push(h);
    return this;
  }
  fire(ev: string, ...args: unknown[]) {
    for (const h of this.handlers.get(ev) ?? []) h(...args);
  }
  connect() {
    this.connects++;
    return this;
  }
  disconnect() {
    this.connected = false;
    return this;
  }
  removeAllListeners() {
    this.handlers.clear();
    return this;
  }
  refuse(message = "websocket error") {
    this.fire("connect_error", new Error(message));
  }
  timeout(ms: number) {
    return { emit: (ev: string, payload: Record<string, unknown>, cb: Handler) => void this.sent.push({ ev, payload, cb, ms }) };
  }
  up() {
    this.connected = true;
    this.fire("connect");
  }
  down() {
    this.connected = false;
    this.fire("disconnect", "transport close");
  }
  /** The last command of that name. */
  last(ev: string): SentCommand {
    const s = [...this.sent].reverse().find((x) => x.ev === ev);
    if (!s) throw new Error(`no ${ev} was sent`);
    return s;
  }
  count(ev: string) {
    return this.sent.filter((x) => x.ev === ev).length;
  }
  /** Join and resync requests, in the order sent. */
  syncs() {
    return this.sent.filter((x) => x.ev === "board:join" || x.ev === "board:resync");
  }
}
