import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import pg from 'pg';
import { serviceEntry, serviceNames, type ServiceName } from '../../apps/services.js';
import { AmqpClient, AmqpConnection, resolveMessagingOptions } from '@app/messaging';
import { EventProbe, RabbitAdmin, waitFor, withVhost } from '@app/messaging/testing';
import { createServiceApp, MetricNames } from '@app/platform';
import { createTestDatabase } from './database.js';
import { testEnv } from './env.js';
import { http, testApiKeysEnv } from './http.js';
import { scrape } from './metrics.js';
import { SmtpSink } from './smtp.js';

export type { ServiceName };

/**
 * The whole system for one suite, isolated: its own vhost, its own database, its own SMTP
 * server, and the apps built exactly as main.ts builds them, listening on free ports.
 */
export class TestSystem {
  readonly urls: Partial<Record<ServiceName, string>> = {};
  private readonly apps = new Map<ServiceName, INestApplication>();
  /** More instances, started by startReplica(): they compete for their service's queues. */
  private readonly replicas: INestApplication[] = [];
  private client?: { connection: AmqpConnection; client: AmqpClient };
  private spanExporters: Partial<Record<ServiceName, SpanExporter>> = {};

  private constructor(
    readonly env: Record<string, string>,
    readonly admin: RabbitAdmin,
    readonly vhost: string,
    readonly smtp: SmtpSink,
    readonly probe: EventProbe,
    private readonly dropDatabase: () => Promise<void>,
  ) {}

  static async start(
    suite: string,
    {
      services = serviceNames,
      env = {},
      spanExporters = {},
    }: {
      services?: ServiceName[];
      env?: Record<string, string>;
      /** Traces each of these services into its exporter (tracing stays off in the others). */
      spanExporters?: Partial<Record<ServiceName, SpanExporter>>;
    } = {},
  ): Promise<TestSystem> {
    const admin = new RabbitAdmin(testEnv.managementUrl);
    const vhost = await admin.createVhost(`test-${suite}`);
    const rabbitUrl = withVhost(testEnv.rabbitUrl, vhost);
    const database = await createTestDatabase(suite);
    const smtp = await SmtpSink.start();
    const probe = await EventProbe.start(rabbitUrl);
    const system = new TestSystem(
      {
        RABBITMQ_URL: rabbitUrl,
        DATABASE_URL: database.url,
        SMTP_URL: smtp.url,
        LOG_LEVEL: 'warn',
        INVENTORY_SEED: 'false',
        RETRY_DELAYS_MS: '200,500',
        // http() sends the admin key. No rate limit: @nestjs/throttler cannot load in jest on
        // Node < 24.9 (see HttpHardeningModule); test/http/rate-limit.e2e-spec.ts covers it.
        API_KEYS: testApiKeysEnv,
        HTTP_RATE_LIMIT: '0',
        ...env,
      },
      admin,
      vhost,
      smtp,
      probe,
      database.drop,
    );
    system.spanExporters = spanExporters;
    for (const name of services) await system.startService(name);
    return system;
  }

  get rabbitUrl(): string {
    return this.env.RABBITMQ_URL!;
  }

  url(service: ServiceName, path: string): string {
    const base = this.urls[service];
    if (!base) throw new Error(`${service} is not running`);
    return `${base}${path}`;
  }

  async startService(name: ServiceName, env: Record<string, string> = {}): Promise<void> {
    const app = await this.createApp(name, env);
    this.apps.set(name, app);
    this.urls[name] = await urlOf(app);
  }

  /** One more instance of `name`, same configuration, its own port; returns its URL. */
  async startReplica(name: ServiceName): Promise<string> {
    const app = await this.createApp(name, {});
    this.replicas.push(app);
    return urlOf(app);
  }

  private async createApp(name: ServiceName, env: Record<string, string>) {
    const { definition } = serviceEntry(name);
    const loaded = definition.loadConfig({ ...this.env, ...env, HTTP_PORT: '0' });
    const spanExporter = this.spanExporters[name];
    const config = spanExporter
      ? { ...loaded, tracing: { ...loaded.tracing, spanExporter } }
      : loaded;
    const app = await createServiceApp(definition.module(config), config, definition);
    // The transport first: a test's first request finds the service consuming.
    await app.startAllMicroservices();
    await app.listen(0, '127.0.0.1');
    return app;
  }

  /** A running app, to reach its providers (e.g. stop its outbox relay). */
  app(name: ServiceName): INestApplication {
    const app = this.apps.get(name);
    if (!app) throw new Error(`${name} is not running`);
    return app;
  }

  async stopService(name: ServiceName): Promise<void> {
    await this.apps.get(name)?.close();
    this.apps.delete(name);
    delete this.urls[name];
  }

  /** A client of the test's own (not an app's), to call RPCs directly as any caller would. */
  async rpcClient(): Promise<AmqpClient> {
    if (!this.client) {
      const options = resolveMessagingOptions({ urls: this.rabbitUrl, service: 'test-client' });
      const connection = new AmqpConnection(options);
      this.client = { connection, client: new AmqpClient(connection, options) };
    }
    return this.client.client;
  }

  /**
   * Deliveries the running `service` finished (acked, replied, retried, dead-lettered or
   * abandoned) whose labels match (`queue`, `type`, `outcome`): its own count, exact, where
   * the management API's queue statistics can be seconds old. Counts from the app's start.
   */
  async handled(service: ServiceName, labels: Record<string, string>): Promise<number> {
    const metrics = await scrape(this.url(service, '/metrics'));
    return metrics.sum(MetricNames.messagesHandled, labels);
  }

  /** Waits until `service` has finished `count` deliveries matching `labels` (see handled). */
  async waitHandled(
    service: ServiceName,
    labels: Record<string, string>,
    count: number,
  ): Promise<void> {
    await waitFor(`${service} to have handled ${count} ${JSON.stringify(labels)}`, async () => {
      return (await this.handled(service, labels)) >= count;
    });
  }

  /** A fresh SKU (`<prefix>-XXXXXXXX`) with `available` units: tests never share stock. */
  async stockNewSku(available: number, prefix = 'SKU'): Promise<string> {
    const sku = `${prefix}-${randomUUID().slice(0, 8).toUpperCase()}`;
    const res = await http('PUT', this.url('inventory', `/stock/${sku}`), { available });
    if (res.status !== 200) {
      throw new Error(`PUT /stock/${sku} answered ${res.status}: ${JSON.stringify(res.body)}`);
    }
    return sku;
  }

  /** Runs SQL in the suite's database, to check a service's tables (qualify them by schema). */
  async query<R = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.env.DATABASE_URL });
    await client.connect();
    try {
      return (await client.query(text, values)).rows as R[];
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    if (this.client) {
      await this.client.client.close();
      await this.client.connection.onApplicationShutdown();
    }
    for (const replica of this.replicas.splice(0)) await replica.close();
    for (const name of [...this.apps.keys()]) await this.stopService(name);
    await this.probe.close();
    await this.smtp.stop();
    await this.admin.deleteVhost(this.vhost);
    await this.dropDatabase();
  }
}

async function urlOf(app: INestApplication): Promise<string> {
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}
