import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RabbitAdmin, waitFor } from '@app/messaging/testing';

const run = promisify(execFile);

/** One AMQP connection as the broker lists it. */
export interface BrokerConnection {
  /** The broker's connection process (`#PID<…>`): a reconnect gets a new one. */
  id: string;
  /** The `connection_name` client property (`<service>@<pid>`), or '' when none was given. */
  client: string;
}

/** `connection_name` out of client properties listed as `[key, type, value]` triples. */
export function connectionName(properties: unknown[]): string {
  const entry = properties.find((p) => Array.isArray(p) && p[0] === 'connection_name');
  return entry ? String((entry as unknown[])[2]) : '';
}

export interface PrivateBrokerOptions {
  /** Node name before `@localhost`; default `faults-<random>`. */
  name?: string;
  /** How long start() waits for the node to boot. */
  startTimeoutMs?: number;
  /** More rabbitmq.conf lines (e.g. cluster settings). */
  config?: readonly string[];
}

const NEEDS = `The fault suites start a RabbitMQ node of their own: they need the rabbitmq-server
package (rabbitmq-server and rabbitmqctl on PATH) and root, to run the node as the rabbitmq user.`;

/**
 * A RabbitMQ node of the test's own, on free loopback ports, so that faults (stop_app,
 * alarms, closed connections) never touch the machine's shared broker. Needs root (the node
 * runs as the `rabbitmq` user) and the rabbitmq-server package. Every node started is killed
 * when the test process exits, whatever happened.
 */
export class PrivateBroker {
  private static readonly running = new Set<PrivateBroker>();
  readonly admin: RabbitAdmin;

  private constructor(
    readonly node: string,
    readonly dir: string,
    readonly amqpPort: number,
    readonly managementPort: number,
    readonly distPort: number,
  ) {
    this.admin = new RabbitAdmin(this.managementUrl);
  }

  static async start(options: PrivateBrokerOptions = {}): Promise<PrivateBroker> {
    const name = options.name ?? `faults-${randomBytes(4).toString('hex')}`;
    const dir = join(tmpdir(), `rabbitmq-${name}`);
    const [amqpPort, managementPort, distPort] = await freePorts(3);
    if (process.getuid?.() !== 0) throw new Error(NEEDS);
    writeConfig(dir, amqpPort!, managementPort!, options.config ?? []);
    const broker = new PrivateBroker(
      `${name}@localhost`,
      dir,
      amqpPort!,
      managementPort!,
      distPort!,
    );
    PrivateBroker.running.add(broker);
    registerExitHook();
    try {
      await broker.boot(options.startTimeoutMs);
    } catch (error) {
      await broker.stop();
      throw error;
    }
    return broker;
  }

  /** Runs the node (again, after halt(): same name, ports and data) until it answers. */
  async boot(timeoutMs = 60_000): Promise<void> {
    await run('rabbitmq-server', ['-detached'], {
      env: { ...process.env, ...this.env() },
    }).catch((error: Error) => {
      throw new Error(`${NEEDS}\n${error.message}`, { cause: error });
    });
    // -detached returns before the node has registered with epmd: poll until it answers.
    await waitFor(
      `RabbitMQ node ${this.node} to start (logs in ${this.dir}/log)`,
      () => this.ctl('await_startup', '--timeout', '5').then(() => true),
      { timeoutMs, intervalMs: 500 },
    );
    await waitFor('its management API', () => this.admin.ping().then(() => true), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
  }

  /** Stops the node and waits for its process to exit, keeping its data for boot(). */
  async halt(): Promise<void> {
    await this.ctl('stop', join(this.dir, 'pid'));
  }

  get amqpUrl(): string {
    return `amqp://guest:guest@127.0.0.1:${this.amqpPort}`;
  }

  get amqpUrls(): readonly string[] {
    return [this.amqpUrl];
  }

  get managementUrl(): string {
    return `http://guest:guest@127.0.0.1:${this.managementPort}`;
  }

  /** `rabbitmqctl -n <node> …args`; resolves with its stdout, rejects with its stderr. */
  async ctl(...args: string[]): Promise<string> {
    try {
      const { stdout } = await run('rabbitmqctl', ['-n', this.node, ...args], { timeout: 60_000 });
      return stdout;
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      throw new Error(`rabbitmqctl ${args.join(' ')}: ${stderr?.trim() || message}`, {
        cause: error,
      });
    }
  }

  /** Messages ready and unacked per queue of `vhost`, read from the node (no stats lag). */
  async queueDepths(vhost: string): Promise<QueueDepths> {
    return queueDepthsFrom(await this.ctl(...queueDepthsArgs(vhost)));
  }

  /**
   * `close_all_connections` scoped to `vhost` (without `--vhost` the command closes only the
   * connections of `/`, and reports "Closed 0 connections"). Returns how many it closed, and
   * fails when it closed none: a fault that did not happen must not pass for one.
   */
  async closeConnections(vhost: string, reason = 'fault injected by a test'): Promise<number> {
    const out = await this.ctl('close_all_connections', '--vhost', vhost, reason);
    const closed = Number(/Closed (\d+) connection/.exec(out)?.[1] ?? NaN);
    if (!(closed > 0)) throw new Error(`close_all_connections closed nothing in ${vhost}: ${out}`);
    return closed;
  }

  /**
   * The AMQP connections open to `vhost` right now (`rabbitmqctl list_connections`, read from
   * the connection processes: no statistics lag), each with the `connection_name` its client
   * gave (`<service>@<pid>` for ours) and the broker's id of the connection process.
   */
  async connections(vhost: string): Promise<BrokerConnection[]> {
    const out = await this.ctl(
      'list_connections', '-q', '--formatter', 'json', 'pid', 'vhost', 'client_properties',
    ); // prettier-ignore
    const rows = JSON.parse(out) as { pid: string; vhost: string; client_properties: unknown[] }[];
    return rows
      .filter((r) => r.vhost === vhost)
      .map((r) => ({ id: r.pid, client: connectionName(r.client_properties) }));
  }

  /**
   * Stops the node (killing it if it does not stop; at once with `kill`, when its data is not
   * needed: a graceful stop takes seconds) and deletes its directory.
   */
  async stop({ kill = false } = {}): Promise<void> {
    if (!PrivateBroker.running.delete(this)) return;
    if (kill) this.kill();
    else await this.ctl('stop').catch(() => this.kill());
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** `kill -9` of the node's process (a crash); returns its pid, if it was running. */
  kill(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir, 'pid'), 'utf8').trim());
      if (pid > 0) process.kill(pid, 'SIGKILL');
      return pid > 0 ? pid : undefined;
    } catch {
      return undefined; // no pid file: the node never started or already stopped
    }
  }

  private env(): Record<string, string> {
    return {
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_NODE_PORT: String(this.amqpPort),
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(this.dir, 'pid'),
    };
  }

  /** Synchronous last resort for process exit: no time for rabbitmqctl there. */
  static killAll(): void {
    for (const broker of PrivateBroker.running) {
      broker.kill();
      rmSync(broker.dir, { recursive: true, force: true });
    }
    PrivateBroker.running.clear();
  }
}

function writeConfig(
  dir: string,
  amqpPort: number,
  managementPort: number,
  extra: readonly string[],
): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.1 = 127.0.0.1:${amqpPort}`,
      `management.tcp.port = ${managementPort}`,
      'management.tcp.ip = 127.0.0.1',
      'loopback_users = none',
      // Queue stats in the management API refresh every 5 s by default; tests read them.
      'collect_statistics_interval = 500',
      ...extra,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  const uid = Number(execFileSync('id', ['-u', 'rabbitmq']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'rabbitmq']).toString().trim());
  for (const entry of ['', 'rabbitmq.conf', 'enabled_plugins'])
    chownSync(join(dir, entry), uid, gid);
}

/** Ports free right now (listen(0) and close); the node binds them a moment later. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

let hooked = false;
function registerExitHook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => PrivateBroker.killAll());
}

export type QueueDepths = Record<string, { ready: number; unacked: number }>;

/** `rabbitmqctl` arguments listing each queue of `vhost` with its ready and unacked counts. */
export function queueDepthsArgs(vhost: string): string[] {
  return [
    'list_queues',
    '-q',
    '--formatter',
    'json',
    '-p',
    vhost,
    'name',
    'messages_ready',
    'messages_unacknowledged',
  ];
}

/** Parses what `queueDepthsArgs` makes rabbitmqctl print. */
export function queueDepthsFrom(json: string): QueueDepths {
  const rows = JSON.parse(json) as {
    name: string;
    messages_ready: number;
    messages_unacknowledged: number;
  }[];
  return Object.fromEntries(
    rows.map((r) => [r.name, { ready: r.messages_ready, unacked: r.messages_unacknowledged }]),
  );
}
