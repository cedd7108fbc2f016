import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withVhost } from '@app/messaging/testing';
import { createTestDatabase } from '../../support/database.js';
import type { ClientHost, RemoteLoad } from './client-host.js';
import { FAULT_ENV } from './fault-system.js';
import type { LoadedSystem } from './invariants.js';
import { type Host, httpOn } from './netns-hosts.js';
import type { OrderLoadOptions } from './order-load.js';
import type { PartitionedCluster } from './partitioned-cluster.js';
import { type ServiceName, ServiceProcess } from './processes.js';

/** Where each service instance runs: the first of a name is its primary, the rest replicas. */
export interface Placement {
  readonly service: ServiceName;
  readonly host: string;
}

/**
 * Every host runs something, and every service that has a replica has it on another host:
 * order (the RPC caller and its outbox relay) on h1 with a notification replica, inventory on
 * h2, notification on h3 with an inventory replica.
 */
export const PLACEMENT: readonly Placement[] = [
  { service: 'order', host: 'h1' },
  { service: 'inventory', host: 'h2' },
  { service: 'notification', host: 'h3' },
  { service: 'inventory', host: 'h3' },
  { service: 'notification', host: 'h1' },
];

/** Where PostgreSQL's unix socket is: the one way to the machine's database from a host. */
const POSTGRES_SOCKET = '/var/run/postgresql';

/**
 * The three services (and their replicas) running on the lab's hosts against the partitioned
 * cluster, with a vhost and a database of their own and the client host's SMTP sink. Each
 * instance gets every node's URL, its own host's node first. `db` is the test's own pool
 * (127.0.0.1, from the machine's network) for the invariant checks.
 */
export class PartitionSystem implements LoadedSystem<RemoteLoad> {
  readonly broker: { queueDepths: PartitionedCluster['queueDepths'] };

  private constructor(
    readonly suite: string,
    readonly cluster: PartitionedCluster,
    readonly client: ClientHost,
    readonly vhost: string,
    readonly db: pg.Pool,
    readonly instances: readonly ServiceProcess[],
    private readonly dropDatabase: () => Promise<void>,
  ) {
    this.broker = { queueDepths: (vhost) => cluster.queueDepths(vhost) };
  }

  static async start(
    cluster: PartitionedCluster,
    client: ClientHost,
    suite: string,
  ): Promise<PartitionSystem> {
    const vhost = `${suite}-${randomBytes(3).toString('hex')}`;
    await cluster.addVhost(vhost);
    const database = await createTestDatabase(suite);
    const instances = await Promise.all(
      PLACEMENT.map(({ service, host }) => {
        const on = cluster.lab.host(host);
        const own = cluster.node(on);
        const urls = [own, ...cluster.nodes.filter((n) => n !== own)].map((n) =>
          withVhost(n.amqpUrl, vhost),
        );
        const env = {
          ...FAULT_ENV,
          RABBITMQ_QUEUE_TYPE: 'quorum',
          RABBITMQ_URL: urls.join(','),
          DATABASE_URL: overSocket(database.url),
          SMTP_URL: client.smtpUrl,
        };
        return ServiceProcess.create(service, env, { host: on });
      }),
    );
    const system = new PartitionSystem(
      suite,
      cluster,
      client,
      vhost,
      new pg.Pool({ connectionString: database.url, max: 2 }),
      instances,
      database.drop,
    );
    try {
      // Primaries first (each migrates its schema on start), then the replicas.
      const first = instances.filter((s, i) => instances.findIndex((o) => o.name === s.name) === i);
      await Promise.all(first.map((s) => s.start(60_000)));
      await Promise.all(instances.filter((s) => !first.includes(s)).map((s) => s.start(60_000)));
    } catch (error) {
      process.stderr.write(`\n===== services that failed to start =====\n${system.logs()}\n`);
      await system.stop();
      throw error;
    }
    return system;
  }

  get smtp(): ClientHost {
    return this.client;
  }

  /** The first instance of `service` (its primary). */
  primary(service: ServiceName): ServiceProcess {
    return this.instances.find((s) => s.name === service)!;
  }

  /** `<service>@<host>` of each instance, in placement order. */
  label(instance: ServiceProcess): string {
    return `${instance.name}@${instance.host!.name}`;
  }

  onHost(host: Host): ServiceProcess[] {
    return this.instances.filter((s) => s.host === host);
  }

  async setStock(sku: string, available: number): Promise<void> {
    const inventory = this.primary('inventory');
    const res = await httpOn(inventory.host!, 'PUT', `${inventory.url}/stock/${sku}`, {
      available,
    });
    if (res.status !== 200) throw new Error(`PUT /stock/${sku}: ${res.status} ${res.body}`);
  }

  /** The load runs on the client host, against order's HTTP API. */
  startLoad(skus: readonly string[], options?: OrderLoadOptions): RemoteLoad {
    return this.client.startLoad(`${this.primary('order').url}/orders`, skus, options);
  }

  /** The nodes each instance is connected to (its `<service>@<pid>` connections). */
  async connectedNodes(): Promise<Map<ServiceProcess, string[]>> {
    const connections = await this.cluster.connections(this.vhost);
    return new Map(
      this.instances.map((s) => [
        s,
        [
          ...new Set(
            connections.filter((c) => c.client === `${s.name}@${s.pid}`).map((c) => c.node),
          ),
        ],
      ]),
    );
  }

  /**
   * Puts every instance back on its own host's node, as at start: after a case a client may
   * have failed over to another node (the client moves on through its URL list), and the next
   * case would then cut other paths than it names. An instance elsewhere is restarted (it
   * starts on the first URL, its own node). Returns the instances restarted.
   */
  async rehome(): Promise<string[]> {
    const nodes = await this.connectedNodes();
    const away = this.instances.filter((s) => {
      const own = this.cluster.node(s.host!).name;
      const on = nodes.get(s) ?? [];
      return on.length === 0 || on.some((n) => n !== own);
    });
    await Promise.all(
      away.map(async (s) => {
        await s.kill();
        await s.start(60_000);
      }),
    );
    return away.map((s) => `${this.label(s)} (was on ${nodes.get(s)?.join(' and ') || 'none'})`);
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await Promise.all(this.instances.map((s) => s.waitReady(timeoutMs)));
  }

  logs(): string {
    return this.instances
      .map((s) => `----- ${this.label(s)} -----\n${s.logs()}`)
      .concat(`----- client host -----\n${this.client.logs()}`)
      .join('\n');
  }

  /** Kills the services and removes the vhost and the database; never masks an error. */
  async stop(): Promise<void> {
    await Promise.all(this.instances.map((s) => s.kill()));
    const steps = [
      () => this.db.end(),
      () => this.cluster.deleteVhost(this.vhost),
      () => this.dropDatabase(),
    ];
    for (const step of steps) {
      await step().catch((e: Error) => process.stderr.write(`partition teardown: ${e.message}\n`));
    }
  }
}

/**
 * The database URL with PostgreSQL's unix socket for its host (`?host=` is libpq's and
 * node-postgres' way to name a socket directory): TCP on 127.0.0.1 is the machine's network.
 */
function overSocket(url: string): string {
  const parsed = new URL(url);
  parsed.hostname = 'localhost';
  parsed.port = '';
  parsed.searchParams.set('host', POSTGRES_SOCKET);
  return parsed.toString();
}
