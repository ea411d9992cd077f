import net from "node:net";

/**
 * A stand-in load balancer on loopback: a TCP proxy with an ordered list of nodes. Each new
 * connection goes to the first node that accepts it; a node whose port refuses (a dead
 * process) is skipped, so clients reconnecting after a node dies land on the next one.
 * `hold` keeps new connections waiting (accepted, not yet forwarded) until `release`, as a
 * balancer does while its health check has not yet marked a node down.
 */
export class FailoverBalancer {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private held: Array<() => void> | null = null;
  port = 0;
  /** Which node (its index in `targets`) each forwarded connection reached, in order. */
  readonly routed: number[] = [];

  constructor(private readonly targets: Array<{ host: string; port: number }>) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      client.pause();
      this.track(client);
      client.on("error", () => client.destroy());
      if (this.held) this.held.push(() => this.forward(client, 0));
      else this.forward(client, 0);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** New connections wait until `release`. */
  hold(): void {
    this.held ??= [];
  }

  /** Forwards the connections that waited, and every new one at once. */
  release(): void {
    const waiting = this.held ?? [];
    this.held = null;
    for (const go of waiting) go();
  }

  /** Connections accepted and waiting for `release`. */
  get waiting(): number {
    return this.held?.length ?? 0;
  }

  async close(): Promise<void> {
    this.release();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.on("close", () => this.sockets.delete(s));
  }

  private forward(client: net.Socket, index: number): void {
    if (client.destroyed) return;
    const target = this.targets[index];
    if (!target) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      this.track(upstream);
      this.routed.push(index);
      upstream.on("close", () => client.destroy());
      client.on("close", () => upstream.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.on("error", () => {
      if (connected) {
        upstream.destroy();
        client.destroy();
      } else this.forward(client, index + 1);
    });
  }
}
