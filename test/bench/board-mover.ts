/**
 * The sending side of the socket benches: one socket.io-client connection that moves leads
 * back and forth between two early stages through `lead:move`, at a steady rate (latency)
 * or as fast as the server acknowledges (throughput). Each move's event is keyed
 * `<lead id>:<new version>`, as the viewers (viewer-child.ts) key what they receive.
 */
import { io as connect, type Socket } from "socket.io-client";
import type { BoardSnapshot, LeadCard } from "../../shared/board.ts";
import type { Ack } from "../../shared/errors.ts";
import { now, sleep } from "./viewer-pool.ts";

export function openSocket(url: string, cookie?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(url, { transports: ["websocket"], forceNew: true, reconnection: false, extraHeaders: cookie ? { cookie } : {} });
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

/** The board as a viewer joining with `{}` sees it. */
export async function peekBoard(url: string, cookie: string): Promise<BoardSnapshot> {
  const s = await openSocket(url, cookie);
  try {
    const ack = (await s.timeout(60_000).emitWithAck("board:join", {})) as Ack<BoardSnapshot>;
    if (!ack.ok) throw new Error(`board:join failed: ${ack.error.message}`);
    return ack.data;
  } finally {
    s.disconnect();
  }
}

export class BoardMover {
  private constructor(
    private readonly socket: Socket,
    /** The last card of each lead this mover (or one sharing its leads) saw acknowledged. */
    private readonly versions: Map<string, LeadCard>,
    private readonly ids: string[],
  ) {}

  /** A mover sending through `url` (which may be another node than the viewers'). */
  static async open(url: string, cookie: string, snapshot: BoardSnapshot): Promise<BoardMover> {
    const movable = snapshot.leads.filter((l) => (l.stage === "automated_marketing_qualification" || l.stage === "inquiry") && l.scorable);
    if (movable.length < 16) throw new Error(`the board has only ${movable.length} leads to move back and forth`);
    return new BoardMover(await openSocket(url, cookie), new Map(movable.map((l) => [l.id, l])), movable.map((l) => l.id));
  }

  /** Another mover of the same leads through `url` (another node): the two must not move at the same time. */
  async via(url: string, cookie: string): Promise<BoardMover> {
    return new BoardMover(await openSocket(url, cookie), this.versions, this.ids);
  }

  get leadCount(): number {
    return this.ids.length;
  }

  /** Moves the i-th movable lead to the other stage; resolves false if the server refused it. */
  async move(i: number, sentAt?: Map<string, number>): Promise<boolean> {
    const lead = this.versions.get(this.ids[i % this.ids.length]!)!;
    const toStage = lead.stage === "inquiry" ? "automated_marketing_qualification" : "inquiry";
    sentAt?.set(`${lead.id}:${lead.version + 1}`, now());
    const ack = (await this.socket
      .timeout(60_000)
      .emitWithAck("lead:move", { leadId: lead.id, toStage, expectedVersion: lead.version })) as Ack<LeadCard>;
    if (!ack.ok) return false;
    this.versions.set(lead.id, ack.data);
    return true;
  }

  /** Moves at `rate` per second for `seconds`; returns when each move was sent (by event key) and each one's time to its ack. */
  async steady(rate: number, seconds: number): Promise<{ sentAt: Map<string, number>; refused: number; acks: number[] }> {
    const sentAt = new Map<string, number>();
    const acks: number[] = [];
    const pending: Array<Promise<boolean>> = [];
    const start = now();
    const total = Math.round(rate * seconds);
    for (let i = 0; i < total; i++) {
      // Paced against the start, so a slow tick does not lower the rate.
      const due = start + (i * 1000) / rate;
      if (due > now()) await sleep(due - now());
      const sent = now();
      pending.push(this.move(i, sentAt).finally(() => acks.push(now() - sent)));
    }
    const results = await Promise.all(pending);
    return { sentAt, refused: results.filter((ok) => !ok).length, acks: acks.sort((a, b) => a - b) };
  }

  /** `concurrency` movers, each on its own leads, as fast as acknowledgements come back, until `until()`. */
  async flat(concurrency: number, until: () => boolean): Promise<number> {
    let moves = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        for (let k = w; !until(); k += concurrency) if (await this.move(k)) moves++;
      }),
    );
    return moves;
  }

  close(): void {
    this.socket.disconnect();
  }
}
