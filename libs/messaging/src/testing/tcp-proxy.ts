import { createConnection, createServer, type Server, type Socket } from 'node:net';

interface Pipe {
  client: Socket;
  upstream: Socket;
  /** What arrived during a stall, in order, for each direction (null: the sender's end). */
  held: { to: Socket; chunk: Buffer | null }[];
  /** A side closed during the stall: the pipe goes once what it held is delivered. */
  closedWhileStalled: boolean;
  /** Frozen by stallOpen(): held like under stall(), while new connections pass. */
  frozen: boolean;
}

/**
 * A TCP proxy on 127.0.0.1 for fault injection: put it between a service and the broker (or
 * the database) and freeze, cut or refuse the traffic. Loopback only, by design: it is a test
 * tool, not a relay.
 */
export class TcpProxy {
  private readonly pipes = new Set<Pipe>();
  private stalled = false;
  private refusing = false;
  private heldBytes = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly target: { host: string; port: number },
  ) {}

  /** Listens on a random loopback port and forwards each connection to `host:port`. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    // eslint-disable-next-line prefer-const -- the server's handler needs the proxy it serves
    let proxy!: TcpProxy;
    const server = createServer((client) => proxy.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    proxy = new TcpProxy(server, address.port, target);
    return proxy;
  }

  /** How many client connections are open through the proxy. */
  get connections(): number {
    return this.pipes.size;
  }

  /** `scheme://user@host:port/path` of `url` rewritten to go through this proxy. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /**
   * Freezes every connection, open and new, in both directions: sockets stay open, nothing
   * is forwarded, what is sent meanwhile is held (a hung network, not a closed one). Returns
   * how many open connections it froze (a fault test's witness).
   */
  stall(): number {
    this.stalled = true;
    this.heldBytes = 0;
    return this.pipes.size;
  }

  /**
   * Freezes only the connections open now, as stall() does; new ones pass (a route to the
   * broker that died silently while another one works): a peer's heartbeat must notice, and
   * its reconnect gets through. Returns how many it froze; resume() thaws them.
   */
  stallOpen(): number {
    this.heldBytes = 0;
    for (const pipe of this.pipes) pipe.frozen = true;
    return this.pipes.size;
  }

  /** Connections frozen by stallOpen() still held open by the proxy (no FIN, no RST sent). */
  get frozenConnections(): number {
    return [...this.pipes].filter((p) => p.frozen).length;
  }

  /**
   * Bytes the clients sent since the last stall() that the proxy held back: evidence that
   * a client tried to talk through the frozen network.
   */
  get heldFromClients(): number {
    return this.heldBytes;
  }

  /** True when what a client sent during the stall, held back, contains `text`. */
  holds(text: string): boolean {
    return [...this.pipes].some(({ upstream, held }) => {
      const sent = held.filter((h) => h.to === upstream && h.chunk).map((h) => h.chunk!);
      return Buffer.concat(sent).includes(text);
    });
  }

  /** Forwards again, starting with what was held during the stall. */
  resume(): void {
    this.stalled = false;
    for (const pipe of [...this.pipes]) {
      pipe.frozen = false;
      for (const { to, chunk } of pipe.held.splice(0)) {
        if (to.destroyed) continue;
        if (chunk) to.write(chunk);
        else to.end();
      }
      if (!pipe.closedWhileStalled) continue;
      // The peer that stayed hears the end after the data (a FIN, as the kernel would send).
      for (const socket of [pipe.client, pipe.upstream]) {
        if (!socket.destroyed && !socket.writableEnded) socket.end();
      }
    }
  }

  /**
   * Destroys every open connection at once (both sides see a reset); new ones are accepted.
   * Returns how many it cut (a fault test's witness).
   */
  cut(): number {
    const open = [...this.pipes];
    for (const pipe of open) this.drop(pipe);
    return open.length;
  }

  /** While on, a new connection is closed as soon as it is accepted (a port nobody serves). */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = createConnection({ host: this.target.host, port: this.target.port });
    const pipe: Pipe = { client, upstream, held: [], closedWhileStalled: false, frozen: false };
    this.pipes.add(pipe);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.forward(pipe, client, upstream);
    this.forward(pipe, upstream, client);
    // A peer that goes away during a stall (a killed process) has what it sent delivered
    // on resume(), as a real network would have; cut() discards it.
    const closed = () => {
      if (this.stalled || pipe.frozen) pipe.closedWhileStalled = true;
      else this.drop(pipe);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', closed);
      socket.on('close', closed);
    }
  }

  /**
   * Manual forwarding (not pipe()): during a stall each chunk, and the sender's end, is held
   * in order until resume(); otherwise backpressure pauses the sender.
   */
  private forward(pipe: Pipe, from: Socket, to: Socket): void {
    const fromClient = from === pipe.client;
    from.on('data', (chunk: Buffer) => {
      if (this.stalled || pipe.frozen || pipe.held.length > 0) {
        pipe.held.push({ to, chunk });
        if (fromClient) this.heldBytes += chunk.length;
        return;
      }
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    from.on('end', () => {
      if (this.stalled || pipe.frozen || pipe.held.length > 0) pipe.held.push({ to, chunk: null });
      else to.end();
    });
  }

  private drop(pipe: Pipe): void {
    if (!this.pipes.delete(pipe)) return;
    hardClose(pipe.client);
    hardClose(pipe.upstream);
  }
}

/**
 * Closes with a TCP reset, as a crash or a dropped route looks to the peer. Not on a socket
 * already shutting down (it forwarded an end): libuv refuses the reset there and Node 20 then
 * leaks the handle, which keeps the process spinning at exit.
 */
function hardClose(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting || socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}
