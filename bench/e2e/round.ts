import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import { waitFor, withVhost } from '@app/messaging/testing';
import { migrateToLatest } from '@app/database';
import { serviceEntry, type ServiceName } from '../../apps/services.js';
import { freePorts } from '../../test/faults/support/private-broker.js';
import { ServiceProcess } from '../../test/faults/support/processes.js';
import { createTestDatabase } from '../../test/support/database.js';
import { testEnv } from '../../test/support/env.js';
import { testApiKeys, testApiKeysEnv } from '../../test/support/http.js';
import type { Measurement } from '../stats.js';
import type { BenchContext } from '../support/compare.js';
import type { LoadResult } from './load.js';
import { machineCpuMs, postgresCpuMs, processCpuMs } from './procfs.js';

/** Orders spread over several SKUs, as real traffic is, so one stock row's lock is not all we measure. */
export const SKUS = Array.from({ length: 16 }, (_, i) => `BENCH-${String(i).padStart(2, '0')}`);
const STOCK_PER_SKU = 1_000_000_000;
/** A service starts in seconds, but on a machine shared with other test runs it has taken 30 s. */
const READY_TIMEOUT_MS = 120_000;

/** The services of the order flow (not every service of apps/services.ts), in start order. */
const FLOW = ['order', 'inventory', 'notification'] as const satisfies readonly ServiceName[];
type FlowService = (typeof FLOW)[number];

/** The two ways of running the order flow, each as three processes. */
export type E2eVariant = 'ours' | 'floor';

export interface RoundSettings {
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** Waits for PostgreSQL's statistics to be flushed before reading commits (10 s idle interval). */
  statsFlushMs: number;
  /**
   * Each service writes a CPU profile (`node --cpu-prof`) to `<dir>/<variant>-<service>/`,
   * with `window-<pid>.json` beside it: when the measured load ran, for profile-summary.ts.
   */
  profileDir?: string;
}

/** Figures named as the e2e table shows them; each is per order unless it says otherwise. */
export const E2E_FIGURES = {
  lastMail: 'last e-mail after the load started, ms',
  order: 'order CPU, ms',
  inventory: 'inventory CPU, ms',
  notification: 'notification CPU, ms',
  postgres: 'PostgreSQL CPU (the run’s backends), ms',
  postgresCluster: 'PostgreSQL CPU (whole cluster), ms',
  rabbitmq: 'RabbitMQ CPU (beam.smp), ms',
  sink: 'SMTP sink CPU, ms',
  load: 'load generator CPU, ms',
  machine: 'machine CPU (/proc/stat), ms',
  commits: 'commits (pg_stat_database)',
  clientCommits: 'COMMITs sent (counted in pg)',
  statements: 'SQL statements sent (counted in pg)',
  failed: 'failed requests (total)',
} as const;

/** True when this runs from TypeScript sources (jest), false from dist/ (`npm run bench`). */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const TS_REGISTER = fileURLToPath(new URL('../../test/support/ts-register.mjs', import.meta.url));
/** How to run a script of this directory (or a service), built or from source. */
const launcher = FROM_SOURCE ? ['--import', TS_REGISTER] : [];

function here(path: string): string {
  return fileURLToPath(new URL(FROM_SOURCE ? path.replace(/\.js$/, '.ts') : path, import.meta.url));
}

/**
 * One round of one variant, from nothing: a fresh database (migrated with the services'
 * own migrations) and vhost, the SMTP sink, the three services (ours from the built dist/,
 * or the floor's), a warm-up load, then the measured load from a fresh load-generator
 * process. CPU of every process is read from /proc before the load and once the last
 * e-mail has arrived; then the round's outcome is checked and everything removed.
 */
export async function runRound(
  ctx: BenchContext,
  variant: E2eVariant,
  settings: RoundSettings,
): Promise<Measurement> {
  const database = await createTestDatabase(`bench_${variant}`);
  const databaseName = new URL(database.url).pathname.slice(1);
  const vhost = await ctx.admin.createVhost(`bench-e2e-${variant}`);
  const logDir = mkdtempSync(join(tmpdir(), `bench-e2e-${variant}-`));
  const started: ServiceProcess[] = [];
  let settled: Settled | undefined;
  let ok = false;
  try {
    const [smtpPort] = await freePorts(1);
    const sink = await ServiceProcess.script(
      'smtp sink',
      here('./smtp-sink.js'),
      { SMTP_PORT: String(smtpPort) },
      { execArgv: launcher },
    );
    started.push(sink);
    await sink.start(READY_TIMEOUT_MS);
    const countFile = (name: string) => join(logDir, `${name}.queries.json`);
    const env: Record<string, string> = {
      RABBITMQ_URL: withVhost(ctx.rabbitUrl, vhost),
      DATABASE_URL: database.url,
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      HTTP_HOST: '127.0.0.1',
      NODE_ENV: 'production',
      // What `npm run start:all` and the image run with: JSON logs at the default level.
      LOG_FORMAT: 'json',
      HTTP_RATE_LIMIT: '0',
      API_KEYS: testApiKeysEnv,
      INVENTORY_SEED: 'false',
      RPC_TIMEOUT_MS: '10000',
    };
    const schema = schemas(env);
    await migrate(env);
    await seedStock(database.url, schema.inventory);
    const services = new Map<FlowService, ServiceProcess>();
    const spawnedAt = new Map<FlowService, number>();
    for (const name of FLOW) {
      const own = {
        ...env,
        BENCH_QUERY_COUNT_FILE: countFile(name),
        // From source, the loader comes first: NODE_OPTIONS are read before the command line.
        NODE_OPTIONS: [
          ...launcher.slice(1).map((loader) => `--import=${loader}`),
          `--import=${here('./count-queries.js')}`,
          settings.profileDir &&
            `--cpu-prof --cpu-prof-dir=${join(settings.profileDir, `${variant}-${name}`)}`,
        ]
          .filter(Boolean)
          .join(' '),
      };
      const options = { outputFile: join(logDir, `${name}.log`) };
      const service =
        variant === 'floor'
          ? await ServiceProcess.script(`floor ${name}`, here(`../floor/${name}.js`), own, options)
          : FROM_SOURCE
            ? await ServiceProcess.script(name, sourceMain(name), own, options)
            : await ServiceProcess.create(name, own, options);
      started.push(service);
      services.set(name, service);
    }
    const bootStart = performance.now();
    // Side by side: nothing of one needs another until the load starts.
    await Promise.all(
      [...services].map(([name, service]) => {
        spawnedAt.set(name, Date.now());
        return service.start(READY_TIMEOUT_MS);
      }),
    );
    ctx.log(
      `e2e | ${variant}: services ready in ${((performance.now() - bootStart) / 1000).toFixed(1)} s`,
    );
    const orderUrl = services.get('order')!.url;
    const stats = new SinkStats(sink.url);

    settled = new Settled(database.url, schema.order, stats);
    if (settings.warmupSeconds > 0) {
      const warm = await generateLoad(
        orderUrl,
        settings.connections,
        settings.warmupSeconds,
        'warm',
      );
      await settled.wait(warm.created);
    }
    const ordersBefore = (await settled.wait(0)).orders;

    const commitsBefore = await commits(databaseName, settings.statsFlushMs);
    const queriesBefore = await queryCounts(services, countFile);
    const pids = processIds(services, sink);
    const postmaster = await postmasterPid(database.url);
    const rabbit = await rabbitPid(ctx);
    const cpuBefore = cpuSnapshot(pids, postmaster, rabbit, databaseName);

    const load = await generateLoad(orderUrl, settings.connections, settings.seconds, 'buyer');
    const done = await settled.wait(ordersBefore + load.created);
    const cpuAfter = cpuSnapshot(pids, postmaster, rabbit, databaseName);
    const queriesAfter = await queryCounts(services, countFile);
    const commitsAfter = await commits(databaseName, settings.statsFlushMs);

    await verify(database.url, schema, await stats.read(), done.orders);
    ok = true;

    // Requests still in flight when the load stopped were abandoned by the client, but their
    // orders were placed and mailed all the same: the work per order counts them too.
    const n = done.orders - ordersBefore;
    const lastAt = done.lastMailAt;
    if (settings.profileDir) {
      for (const [name, service] of services) {
        const window = {
          spawnedAt: spawnedAt.get(name),
          from: load.startedAt,
          to: lastAt,
          orders: n,
          // What /proc says the process used per order: the profile's shares are applied to it.
          cpuMsPerOrder: (cpuAfter[name] - cpuBefore[name]) / n,
        };
        const dir = join(settings.profileDir, `${variant}-${name}`);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `window-${service.pid}.json`), JSON.stringify(window));
      }
    }
    const perOrder = (key: keyof typeof cpuAfter) => (cpuAfter[key] - cpuBefore[key]) / n;
    const sum = (counts: Map<string, QueryCount>, pick: (c: QueryCount) => number) =>
      [...counts.values()].reduce((total, c) => total + pick(c), 0);
    return {
      throughput: load.created / ((load.finishedAt - load.startedAt) / 1000),
      p50: load.p50,
      p99: load.p99,
      extra: {
        [E2E_FIGURES.lastMail]: lastAt - load.startedAt,
        [E2E_FIGURES.order]: perOrder('order'),
        [E2E_FIGURES.inventory]: perOrder('inventory'),
        [E2E_FIGURES.notification]: perOrder('notification'),
        [E2E_FIGURES.postgres]: perOrder('postgres'),
        [E2E_FIGURES.postgresCluster]: perOrder('postgresCluster'),
        [E2E_FIGURES.rabbitmq]: perOrder('rabbitmq'),
        [E2E_FIGURES.sink]: perOrder('sink'),
        [E2E_FIGURES.load]: load.cpuMs / n,
        [E2E_FIGURES.machine]: perOrder('machine'),
        [E2E_FIGURES.commits]: (commitsAfter - commitsBefore) / n,
        [E2E_FIGURES.clientCommits]:
          (sum(queriesAfter, (c) => c.commits) - sum(queriesBefore, (c) => c.commits)) / n,
        [E2E_FIGURES.statements]:
          (sum(queriesAfter, (c) => c.queries) - sum(queriesBefore, (c) => c.queries)) / n,
        [E2E_FIGURES.failed]: load.failed,
      },
    };
  } finally {
    const stopStart = performance.now();
    await settled?.close();
    await Promise.all(started.reverse().map((s) => s.stop()));
    ctx.log(
      `e2e | ${variant}: stopped in ${((performance.now() - stopStart) / 1000).toFixed(1)} s`,
    );
    if (!ok) {
      for (const s of started)
        ctx.log(`--- ${s.name} (last lines) ---\n${s.logs().split('\n').slice(-30).join('\n')}`);
    }
    await ServiceProcess.killAll();
    rmSync(logDir, { recursive: true, force: true });
    await ctx.admin.deleteVhost(vhost).catch((e: Error) => ctx.log(`vhost: ${e.message}`));
    await database.drop().catch((e: Error) => ctx.log(`database: ${e.message}`));
  }
}

function sourceMain(name: FlowService): string {
  return fileURLToPath(new URL(`../../apps/${name}/src/main.ts`, import.meta.url));
}

/** Every service's schema and tables, by its own migrations, as `npm run migrate` does. */
async function migrate(env: Record<string, string>): Promise<void> {
  Logger.overrideLogger(['error', 'warn']); // not a line per migration on the bench's output
  for (const name of FLOW) {
    const { definition, migrations } = serviceEntry(name);
    const { database } = definition.loadConfig({ ...env, HTTP_PORT: '0' });
    await migrateToLatest(database, migrations);
  }
}

/** Each service's schema, as its config gives it. */
function schemas(env: Record<string, string>): Record<FlowService, string> {
  const schemaOf = (name: FlowService) =>
    serviceEntry(name).definition.loadConfig({ ...env, HTTP_PORT: '0' }).database.schema;
  return {
    order: schemaOf('order'),
    inventory: schemaOf('inventory'),
    notification: schemaOf('notification'),
  };
}

async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function seedStock(url: string, schema: string): Promise<void> {
  await withClient(url, (c) =>
    c.query(`INSERT INTO ${schema}.stock (sku, available) SELECT unnest($1::text[]), $2`, [
      SKUS,
      STOCK_PER_SKU,
    ]),
  );
}

interface Pids {
  order: number;
  inventory: number;
  notification: number;
  sink: number;
}

function processIds(services: Map<FlowService, ServiceProcess>, sink: ServiceProcess): Pids {
  const pid = (p: ServiceProcess | undefined) => {
    if (!p?.pid) throw new Error(`${p?.name ?? 'a service'} has no process`);
    return p.pid;
  };
  return {
    order: pid(services.get('order')),
    inventory: pid(services.get('inventory')),
    notification: pid(services.get('notification')),
    sink: pid(sink),
  };
}

function cpuSnapshot(pids: Pids, postmaster: number, rabbit: number, database: string) {
  const postgres = postgresCpuMs(postmaster, database);
  return {
    order: processCpuMs(pids.order),
    inventory: processCpuMs(pids.inventory),
    notification: processCpuMs(pids.notification),
    sink: processCpuMs(pids.sink),
    postgres: postgres.backends,
    postgresCluster: postgres.cluster,
    rabbitmq: processCpuMs(rabbit),
    machine: machineCpuMs(),
  };
}

/** The postmaster: the parent of the backend serving this connection. */
async function postmasterPid(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ pid: number }>('select pg_backend_pid() as pid');
    const stat = readFileSync(`/proc/${rows[0]!.pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  });
}

/** RabbitMQ's Erlang VM, as the management API reports it (the broker the bench uses). */
async function rabbitPid(ctx: BenchContext): Promise<number> {
  const url = new URL(testEnv.managementUrl);
  const auth = Buffer.from(
    `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`,
  );
  url.username = url.password = '';
  const pid = await waitFor(
    "RabbitMQ's os_pid from the management API",
    async () => {
      const res = await fetch(new URL('/api/nodes', url), {
        headers: { authorization: `Basic ${auth.toString('base64')}` },
      });
      const nodes = (await res.json()) as { os_pid?: string | null }[];
      const value = Number(nodes[0]?.os_pid);
      return value > 0 ? value : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 500 },
  );
  if (!existsSync(`/proc/${pid}/stat`)) {
    throw new Error(
      `RabbitMQ (pid ${pid}) is not on this machine: the bench reads its CPU from /proc`,
    );
  }
  ctx.log(`e2e: RabbitMQ pid ${pid}`);
  return pid;
}

/** xact_commit of the run's database once PostgreSQL has flushed its statistics. */
async function commits(database: string, flushMs: number): Promise<number> {
  if (flushMs > 0) await new Promise((r) => setTimeout(r, flushMs));
  return withClient(testEnv.databaseUrl, async (c) => {
    const { rows } = await c.query<{ n: string }>(
      'select xact_commit as n from pg_stat_database where datname = $1',
      [database],
    );
    return Number(rows[0]?.n ?? NaN);
  });
}

interface QueryCount {
  seq: number;
  queries: number;
  commits: number;
}

/** What count-queries.ts has counted in each service so far (it answers SIGUSR2). */
async function queryCounts(
  services: Map<FlowService, ServiceProcess>,
  file: (name: string) => string,
): Promise<Map<string, QueryCount>> {
  const counts = new Map<string, QueryCount>();
  for (const [name, service] of services) {
    const previous = existsSync(file(name))
      ? (JSON.parse(readFileSync(file(name), 'utf8')) as QueryCount).seq
      : 0;
    process.kill(service.pid!, 'SIGUSR2');
    counts.set(
      name,
      await waitFor(
        `${name} to write its query count`,
        () => {
          if (!existsSync(file(name))) return undefined;
          const count = JSON.parse(readFileSync(file(name), 'utf8')) as QueryCount;
          return count.seq > previous ? count : undefined;
        },
        { timeoutMs: 5_000, intervalMs: 10 },
      ),
    );
  }
  return counts;
}

/** Runs bench/e2e/load.ts in a process of its own and returns what it measured. */
async function generateLoad(
  url: string,
  connections: number,
  seconds: number,
  customer: string,
): Promise<LoadResult> {
  const child = spawn(process.execPath, [...launcher, here('./load.js')], {
    env: {
      ...process.env,
      LOAD_URL: url,
      LOAD_CONNECTIONS: String(connections),
      LOAD_SECONDS: String(seconds),
      LOAD_SKUS: SKUS.join(','),
      LOAD_API_KEY: testApiKeys.write,
      LOAD_CUSTOMER: `${customer}-${Date.now()}-`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  const result = JSON.parse(out) as LoadResult;
  if (result.created === 0) throw new Error(`no order was created (${result.failed} failed)`);
  return result;
}

interface SinkCounts {
  mails: number;
  orders: number;
  messageIds: number;
  lastAt: number;
}

class SinkStats {
  constructor(private readonly base: string) {}

  async read(): Promise<SinkCounts> {
    const res = await fetch(`${this.base}/stats`);
    return (await res.json()) as SinkCounts;
  }
}

/**
 * Waits until the system is idle: at least `created` orders placed, none PENDING, and one
 * e-mail per order at the sink. The sink is polled every 20 ms (the resolution of the e-mail
 * figure), the database only once the sink has caught up with what is known.
 */
class Settled {
  private client?: pg.Client;

  constructor(
    private readonly url: string,
    private readonly schema: string,
    private readonly sink: SinkStats,
  ) {}

  /** One connection for every poll: a new one per poll would fork a backend each time. */
  private async connection(): Promise<pg.Client> {
    if (!this.client) {
      this.client = new pg.Client({ connectionString: this.url });
      await this.client.connect();
    }
    return this.client;
  }

  async close(): Promise<void> {
    await this.client?.end();
  }

  async wait(
    created: number,
    timeoutMs = 120_000,
  ): Promise<{ orders: number; lastMailAt: number }> {
    let known = created;
    return waitFor(
      `every order settled and mailed (${created} or more)`,
      async () => {
        const mails = (await this.sink.read()).mails;
        if (mails < known) return undefined;
        const { rows } = await (
          await this.connection()
        ).query<{ orders: string; pending: string }>(
          `select count(*) as orders, count(*) filter (where status = 'PENDING') as pending from ${this.schema}.orders`,
        );
        const orders = Number(rows[0]!.orders);
        const pending = Number(rows[0]!.pending);
        known = Math.max(known, orders);
        const last = await this.sink.read();
        return pending === 0 && last.mails === orders
          ? { orders, lastMailAt: last.lastAt }
          : undefined;
      },
      { timeoutMs, intervalMs: 20 },
    );
  }
}

/**
 * Fails loudly unless the round did all its work exactly once: every order CONFIRMED (stock
 * is ample), one e-mail per order (distinct orders and Message-IDs), one notification and
 * inbox row per e-mail, every outbox row published, stock down by exactly what was ordered.
 */
async function verify(
  url: string,
  schema: Record<FlowService, string>,
  sink: SinkCounts,
  expected: number,
): Promise<void> {
  const problems: string[] = [];
  await withClient(url, async (c) => {
    const one = async (sql: string) => Number((await c.query<{ n: string }>(sql)).rows[0]!.n);
    const byStatus = await c.query<{ status: string; n: string }>(
      `select status, count(*) as n from ${schema.order}.orders group by status`,
    );
    const statuses = Object.fromEntries(byStatus.rows.map((r) => [r.status, Number(r.n)]));
    if (statuses.CONFIRMED !== expected || Object.keys(statuses).length !== 1)
      problems.push(`orders by status ${JSON.stringify(statuses)}, ${expected} CONFIRMED expected`);
    if (sink.mails !== expected || sink.orders !== expected || sink.messageIds !== expected)
      problems.push(`SMTP sink ${JSON.stringify(sink)}, ${expected} of each expected`);
    const notifications = await one(
      `select count(*) as n from ${schema.notification}.notifications`,
    );
    const inbox = await one(`select count(*) as n from ${schema.notification}.inbox_messages`);
    if (notifications !== expected || inbox !== expected)
      problems.push(
        `${notifications} notification rows and ${inbox} inbox rows, ${expected} expected`,
      );
    const taken = await one(
      `select coalesce(sum(${STOCK_PER_SKU} - available), 0) as n from ${schema.inventory}.stock`,
    );
    if (taken !== expected) problems.push(`stock down by ${taken}, ${expected} expected`);
    // The relay marks a batch published once its confirms are in: give the last one a moment.
    const unpublished = () =>
      one(
        `select (select count(*) from ${schema.order}.outbox_messages where published_at is null) + (select count(*) from ${schema.inventory}.outbox_messages where published_at is null) as n`,
      );
    await waitFor('every outbox row published', async () => (await unpublished()) === 0, {
      timeoutMs: 10_000,
      intervalMs: 50,
    }).catch(async () => problems.push(`${await unpublished()} outbox rows unpublished`));
  });
  if (problems.length > 0) throw new Error(`the round did not do its work: ${problems.join('; ')}`);
}
