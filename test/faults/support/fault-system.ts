import { afterAll, beforeAll } from '@jest/globals';
import pg from 'pg';
import { type RabbitAdmin, TcpProxy, waitFor, withVhost } from '@app/messaging/testing';
import { createTestDatabase } from '../../support/database.js';
import { http } from '../../support/http.js';
import { SmtpSink } from '../../support/smtp.js';
import { OrderLoad, type OrderLoadOptions } from './order-load.js';
import { PrivateBroker } from './private-broker.js';
import { type ServiceName, SERVICES, ServiceProcess } from './processes.js';

/** What a system needs of its broker: a `PrivateBroker`, or a `PrivateCluster` (every node). */
export interface FaultBroker {
  readonly admin: RabbitAdmin;
  /** One URL per node; the services get all of them, with the system's vhost. */
  readonly amqpUrls: readonly string[];
  queueDepths(vhost: string): Promise<Record<string, { ready: number; unacked: number }>>;
}

export interface FaultSystemOptions {
  /** Route every service's AMQP connection through a TcpProxy (`system.brokerProxy`). */
  brokerProxy?: boolean;
  /** Route only these services' AMQP connections through it. */
  brokerProxyFor?: readonly ServiceName[];
  /** Services whose PostgreSQL connections go through a TcpProxy (`system.databaseProxy`). */
  databaseProxyFor?: readonly ServiceName[];
  /** Extra or overriding variables for all three services. */
  env?: Record<string, string>;
}

/**
 * Short timings so a case recovers in seconds. Every variable of .env.example is set, because
 * each service also reads ./.env (the environment wins over it).
 */
export const FAULT_ENV: Record<string, string> = {
  HTTP_HOST: '127.0.0.1',
  LOG_FORMAT: 'json',
  LOG_LEVEL: 'warn',
  DB_MIGRATE_ON_START: 'true',
  RABBITMQ_PREFETCH: '32',
  RABBITMQ_QUEUE_TYPE: 'classic',
  RETRY_IMMEDIATE: '2',
  RETRY_DELAYS_MS: '300,1000,3000,6000',
  SHUTDOWN_TIMEOUT_MS: '10000',
  RPC_TIMEOUT_MS: '2000',
  PENDING_ORDER_TIMEOUT_MS: '6000',
  RPC_CIRCUIT_FAILURES: '5',
  RPC_CIRCUIT_COOLDOWN_MS: '1000',
  // No stock-low alerts: every e-mail a case sees belongs to an order.
  STOCK_LOW_THRESHOLD: '0',
  INVENTORY_SEED: 'false',
  MAIL_FROM: 'orders@shop.example',
  OPS_EMAIL: 'ops@shop.example',
  HTTP_BODY_LIMIT: '100kb',
  // The load and the invariant checks come from one address, faster than a client should.
  HTTP_RATE_LIMIT: '0',
  // No keys: the load sends none ('' counts as unset, and keeps a ./.env's keys out), which
  // only the development switch allows.
  API_KEYS: '',
  INSECURE_DEV_MODE: 'true',
};

/**
 * The three services as child processes on a private broker, with their own vhost, database
 * and SMTP sink, and optional TCP proxies to break their connections. `db` is the test's own
 * pool on that database (never through a proxy), for the invariant checks.
 */
export class FaultSystem {
  private readonly services = new Map<ServiceName, ServiceProcess>();
  /** More instances of a service, started by addReplica(): competing consumers. */
  private readonly replicas: ServiceProcess[] = [];
  /** Per-service overrides of `env`. */
  private readonly envOf: Partial<Record<ServiceName, Record<string, string>>> = {};
  private readonly loads: OrderLoad[] = [];

  private constructor(
    readonly suite: string,
    readonly broker: FaultBroker,
    readonly vhost: string,
    readonly smtp: SmtpSink,
    readonly db: pg.Pool,
    readonly env: Record<string, string>,
    readonly brokerProxy: TcpProxy | undefined,
    readonly databaseProxy: TcpProxy | undefined,
    private readonly dropDatabase: () => Promise<void>,
  ) {}

  static async start(
    broker: FaultBroker,
    suite: string,
    options: FaultSystemOptions = {},
  ): Promise<FaultSystem> {
    const vhost = await broker.admin.createVhost(`faults-${suite}`);
    const database = await createTestDatabase(`faults_${suite}`);
    const smtp = await SmtpSink.start();
    const brokerProxy =
      options.brokerProxy || options.brokerProxyFor?.length
        ? await TcpProxy.start({
            host: '127.0.0.1',
            port: Number(new URL(broker.amqpUrls[0]!).port),
          })
        : undefined;
    const dbUrl = new URL(database.url);
    const databaseProxy = options.databaseProxyFor?.length
      ? await TcpProxy.start({ host: dbUrl.hostname, port: Number(dbUrl.port || 5432) })
      : undefined;
    const amqpUrl = broker.amqpUrls.map((url) => withVhost(url, vhost)).join(',');
    const system = new FaultSystem(
      suite,
      broker,
      vhost,
      smtp,
      new pg.Pool({ connectionString: database.url, max: 2 }),
      {
        ...FAULT_ENV,
        RABBITMQ_URL: options.brokerProxy ? brokerProxy!.rewrite(amqpUrl) : amqpUrl,
        DATABASE_URL: database.url,
        SMTP_URL: smtp.url,
        ...options.env,
      },
      brokerProxy,
      databaseProxy,
      database.drop,
    );
    for (const name of options.databaseProxyFor ?? []) {
      system.envOf[name] = { DATABASE_URL: databaseProxy!.rewrite(database.url) };
    }
    for (const name of options.brokerProxyFor ?? []) {
      system.envOf[name] = { ...system.envOf[name], RABBITMQ_URL: brokerProxy!.rewrite(amqpUrl) };
    }
    try {
      await Promise.all(SERVICES.map((name) => system.startService(name)));
    } catch (error) {
      process.stderr.write(`\n===== services that failed to start =====\n${system.logs()}\n`);
      await system.stop();
      throw error;
    }
    return system;
  }

  service(name: ServiceName): ServiceProcess {
    const service = this.services.get(name);
    if (!service) throw new Error(`${name} was never started`);
    return service;
  }

  url(name: ServiceName, path: string): string {
    return `${this.service(name).url}${path}`;
  }

  /** Every instance of `name`: the first one (`service(name)`), then its replicas. */
  instances(name: ServiceName): ServiceProcess[] {
    return this.all().filter((s) => s.name === name);
  }

  /** `<service>@<pid>` of every running instance: the name each gives its broker connection. */
  processes(): string[] {
    return this.all()
      .filter((s) => s.running)
      .map((s) => `${s.name}@${s.pid}`);
  }

  /** Starts one more instance of `name`, same configuration, its own HTTP port. */
  async addReplica(name: ServiceName): Promise<ServiceProcess> {
    const replica = await ServiceProcess.create(name, { ...this.env, ...this.envOf[name] });
    this.replicas.push(replica);
    await replica.start();
    return replica;
  }

  /** Waits until every running service reports ready (broker and database reachable). */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    await Promise.all(this.all().map((s) => s.waitReady(timeoutMs)));
  }

  async setStock(sku: string, available: number): Promise<void> {
    const res = await http('PUT', this.url('inventory', `/stock/${sku}`), { available });
    if (res.status !== 200) {
      throw new Error(`PUT /stock/${sku}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  }

  /**
   * Makes SMTP hang until `count` sends wait on it (their transactions open, their messages
   * unacked), then waits until every e-mail already accepted is also recorded: from then on
   * no send sits between "accepted by SMTP" and "committed", the window where a crash
   * resends by design (docs/architecture.md). Answer them with `smtp.release()`.
   */
  async holdSmtp(count: number): Promise<void> {
    this.smtp.hold();
    await waitFor(`${count} e-mails to hang mid-send`, () => this.smtp.holding >= count, {
      timeoutMs: 20_000,
    });
    await waitFor('every accepted e-mail to be committed', async () => {
      const { rows } = await this.db.query<{ n: number }>(
        'select count(*)::int as n from notification.notifications',
      );
      return rows[0]!.n === this.smtp.mails.length;
    });
  }

  startLoad(skus: readonly string[], options?: OrderLoadOptions): OrderLoad {
    const load = new OrderLoad(this.url('order', '/orders'), skus, options);
    this.loads.push(load);
    return load;
  }

  logs(): string {
    return this.all()
      .map((s) => s.logs())
      .join('\n');
  }

  /** Kills the services and removes everything the case created; never masks its error. */
  async stop(): Promise<void> {
    await Promise.all(this.loads.map((load) => load.stop()));
    await Promise.all(this.all().map((s) => s.kill()));
    this.smtp.release();
    const steps = [
      () => Promise.all([this.brokerProxy?.close(), this.databaseProxy?.close()]),
      () => this.db.end(),
      () => this.smtp.stop(),
      () => this.broker.admin.deleteVhost(this.vhost),
      () => this.dropDatabase(),
    ];
    for (const step of steps) {
      await step().catch((e: Error) => process.stderr.write(`fault teardown: ${e.message}\n`));
    }
  }

  private all(): ServiceProcess[] {
    return [...this.services.values(), ...this.replicas];
  }

  private async startService(name: ServiceName): Promise<void> {
    const service = await ServiceProcess.create(name, { ...this.env, ...this.envOf[name] });
    this.services.set(name, service);
    await service.start();
  }
}

/**
 * Runs one case on a fresh system and always tears it down; if the case fails, the services'
 * output is printed first (it is the evidence).
 */
export async function withFaultSystem(
  broker: FaultBroker,
  suite: string,
  options: FaultSystemOptions,
  body: (system: FaultSystem) => Promise<void>,
): Promise<void> {
  const system = await FaultSystem.start(broker, suite, options);
  try {
    await body(system);
  } catch (error) {
    process.stderr.write(`\n===== service output of the failed case "${suite}" =====\n`);
    process.stderr.write(`${system.logs()}\n===== end of service output =====\n`);
    throw error;
  } finally {
    await system.stop();
  }
}

/**
 * One private node for the test file that calls this (in its describe): started before its
 * tests, stopped after them with every service process still running.
 */
export function usePrivateBroker(): () => PrivateBroker {
  let broker: PrivateBroker | undefined;
  beforeAll(async () => {
    broker = await PrivateBroker.start();
  }, 90_000);
  afterAll(async () => {
    await ServiceProcess.killAll();
    await broker?.stop();
  }, 60_000);
  return () => {
    if (!broker) throw new Error('the private broker did not start');
    return broker;
  };
}
