import { createConnection, createServer, type Server, type Socket } from 'node:net';

interface Pipe {
  client: Socket;
  upstream: Socket;
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
   * is forwarded, data already sent waits in the buffers (a hung network, not a closed one).
   * Returns how many open connections it froze (a fault test's witness).
   */
  stall(): number {
    this.stalled = true;
    for (const { client, upstream } of this.pipes) {
      client.pause();
      upstream.pause();
    }
    return this.pipes.size;
  }

  /** Forwards again, including what was held during the stall. */
  resume(): void {
    this.stalled = false;
    for (const { client, upstream } of this.pipes) {
      client.resume();
      upstream.resume();
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
    const pipe: Pipe = { client, upstream };
    this.pipes.add(pipe);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    if (this.stalled) {
      client.pause();
      upstream.pause();
    }
    const stalled = () => this.stalled;
    forward(client, upstream, stalled);
    forward(upstream, client, stalled);
    for (const socket of [client, upstream]) {
      socket.on('error', () => this.drop(pipe));
      socket.on('close', () => this.drop(pipe));
    }
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

/** Manual forwarding (not pipe()) so that pause() holds data instead of racing a pipe's resume. */
function forward(from: Socket, to: Socket, stalled: () => boolean): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => {
        if (!stalled()) from.resume();
      });
    }
  });
  from.on('end', () => to.end());
}
