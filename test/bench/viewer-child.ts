/**
 * One load-generator process of a ViewerPool (viewer-pool.ts): holds a share of the bench's
 * viewers and answers its parent over IPC. The viewers speak the Socket.IO v4 protocol
 * straight over `ws` instead of through socket.io-client, so that receiving an event costs
 * a frame and a prefix check: the bench should measure the server, not this process.
 * Payloads are parsed only while recording latencies (to key each event).
 *
 * Clock: `performance.timeOrigin + performance.now()` is the same wall clock in every
 * process on the machine, so the parent can compare its send times with these receipts.
 */
import WebSocket from "ws";

export type ChildRequest =
  | { cmd: "open"; url: string; cookie?: string; count: number; join?: Record<string, unknown> }
  | { cmd: "record"; on: boolean }
  | { cmd: "delivered" }
  | { cmd: "close" };

export interface Receipts {
  /** Per event key: how many of this process's viewers received it, and when the first and the last one did. */
  events: Array<[key: string, count: number, firstAt: number, lastAt: number]>;
}

const now = () => performance.timeOrigin + performance.now();
const eventPrefix = '2["board:event",';

const viewers: WebSocket[] = [];
let delivered = 0;
let recording = false;
const receipts = new Map<string, { count: number; firstAt: number; lastAt: number }>();

/** The event's key: `<lead id>:<lead version>` for events about a lead (the raw baseline sends the same shape). */
function keyOf(frame: Buffer): string | undefined {
  const payload = JSON.parse(frame.toString("utf8", 1 + eventPrefix.length, frame.length - 1)) as { lead?: { id: string; version: number } };
  return payload.lead ? `${payload.lead.id}:${payload.lead.version}` : undefined;
}

function onFrame(ws: WebSocket, frame: Buffer, acks: Map<number, (body: string) => void>): void {
  // Engine.IO: "2" ping (answer "3"), "4" message carrying a Socket.IO packet.
  const type = frame[0];
  if (type === 0x32) return void ws.send("3");
  if (type !== 0x34) return;
  if (frame[1] === 0x32 && frame.toString("latin1", 1, 1 + eventPrefix.length) === eventPrefix) {
    delivered++;
    if (!recording) return;
    const at = now();
    const key = keyOf(frame);
    if (!key) return;
    const r = receipts.get(key);
    if (r) {
      r.count++;
      r.lastAt = at;
    } else receipts.set(key, { count: 1, firstAt: at, lastAt: at });
    return;
  }
  if (frame[1] === 0x33) {
    // "43<id>[...]": the answer to an emit with an ack.
    const text = frame.toString("utf8", 2);
    const open = text.indexOf("[");
    const id = Number(text.slice(0, open));
    acks.get(id)?.(text.slice(open + 1, -1));
    acks.delete(id);
  }
}

/** Connects one viewer (handshake, namespace connect) and, if asked, joins the board. */
function openViewer(url: string, cookie: string | undefined, join: Record<string, unknown> | undefined): Promise<WebSocket> {
  const wsUrl = `${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { headers: cookie ? { cookie } : {}, perMessageDeflate: false });
    const acks = new Map<number, (body: string) => void>();
    let connected = false;
    const timer = setTimeout(() => reject(new Error("viewer did not connect in 60 s")), 60_000);
    ws.on("error", reject);
    ws.on("message", (data: Buffer) => {
      if (connected) return onFrame(ws, data, acks);
      const text = data.toString();
      if (text.startsWith("0")) return void ws.send("40");
      if (text.startsWith("44")) return reject(new Error(`connect refused: ${text.slice(2)}`));
      if (!text.startsWith("40")) return;
      connected = true;
      if (!join) {
        clearTimeout(timer);
        return resolve(ws);
      }
      acks.set(0, (body) => {
        clearTimeout(timer);
        if (body.startsWith('{"ok":true')) resolve(ws);
        else reject(new Error(`board:join failed: ${body.slice(0, 200)}`));
      });
      ws.send(`420${JSON.stringify(["board:join", join])}`);
    });
  });
}

async function handle(req: ChildRequest): Promise<unknown> {
  switch (req.cmd) {
    case "open":
      for (let i = 0; i < req.count; i += 25) {
        const batch = Array.from({ length: Math.min(25, req.count - i) }, () => openViewer(req.url, req.cookie, req.join));
        viewers.push(...(await Promise.all(batch)));
      }
      return viewers.length;
    case "record": {
      recording = req.on;
      const events: Receipts["events"] = [...receipts].map(([key, r]) => [key, r.count, r.firstAt, r.lastAt]);
      receipts.clear();
      return { events } satisfies Receipts;
    }
    case "delivered":
      return { delivered, at: now() };
    case "close":
      for (const ws of viewers.splice(0)) ws.close();
      return 0;
  }
}

process.on("message", (msg: { id: number; req: ChildRequest }) => {
  handle(msg.req).then(
    (result) => process.send!({ id: msg.id, result }),
    (err: unknown) => process.send!({ id: msg.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on("disconnect", () => process.exit(0));
