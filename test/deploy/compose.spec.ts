// No Docker engine runs these files here, so they are checked by reading them: compose and the
// Dockerfile against each other, and the environment they give against each app's real config
// loader.
import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { allContracts } from '@app/contracts';
import { credentialsOf, DEMO_API_KEYS, type Env, isDemoPassword, serviceEnv } from '@app/platform';
import { serviceEntry, serviceNames } from '../../apps/services.js';
import { passwordMatches } from '../../tools/new-service/broker-user.js';
import {
  brokerDefinitions,
  chain,
  compose,
  composeEnv,
  dockerfileStages,
  envFileEntries,
  imageEnv,
  last,
  published,
  read,
  service,
} from './deploy-files.js';

/** Every registered service (apps/services.ts): a generated one is checked like the rest. */
const apps = serviceNames.map((name) => {
  const { definition, env, port } = serviceEntry(name);
  return { name, port, load: definition.loadConfig, own: env };
});

const app0 = () => apps[0]!;

describe('docker-compose.yml', () => {
  it('runs the broker, the database, the mail catcher and every app', () => {
    const names = ['rabbitmq', 'postgres', 'mailpit', ...apps.map((a) => a.name)];
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(names));
    expect(service('rabbitmq').image).toMatch(/^rabbitmq:4[\w.]*-management/);
  });

  it('builds each app from the one Dockerfile, targeting the stage named after it', () => {
    for (const { name } of apps)
      expect(service(name).build).toEqual({ context: '.', target: name });
  });

  it('gives every service a healthcheck, the apps one on /health/ready', () => {
    const unchecked = Object.entries(compose.services).filter(
      ([, { healthcheck }]) => !healthcheck?.test?.length || healthcheck.disable,
    );
    expect(unchecked.map(([name]) => name)).toEqual([]);
    for (const { name } of apps)
      expect(service(name).healthcheck?.test).toContainEqual(
        expect.stringContaining('/health/ready'),
      );
  });

  it('starts each app once its broker, database (and mail server) are healthy', () => {
    for (const { name } of apps) {
      const healthy = Object.entries(service(name).depends_on ?? {})
        .filter(([, dependency]) => dependency.condition === 'service_healthy')
        .map(([dependency]) => `${name} after ${dependency}`);
      const needs = ['rabbitmq', 'postgres', ...(name === 'notification' ? ['mailpit'] : [])];
      expect(healthy).toEqual(expect.arrayContaining(needs.map((n) => `${name} after ${n}`)));
      expect(service(name).restart).toBe('unless-stopped');
    }
  });

  it('keeps broker and database data in declared named volumes', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = Object.values(compose.services).flatMap((s) => s.volumes ?? []);
    const named = used.map((v) => v.split(':')[0]).filter((source) => !/^[./~]/.test(source));
    expect(new Set(named)).toEqual(new Set(declared));
    expect(service('rabbitmq').volumes).toContainEqual(
      expect.stringMatching(/:\/var\/lib\/rabbitmq$/),
    );
    expect(service('postgres').volumes).toContainEqual(
      expect.stringMatching(/:\/var\/lib\/postgresql\/data$/),
    );
  });

  it('publishes the fixed host ports', () => {
    expect(published('order')).toContain('3001:3001');
    expect(published('notification')).toContain('3003:3003');
    expect(published('rabbitmq')).toEqual(expect.arrayContaining(['5672:5672', '15672:15672']));
    expect(published('mailpit')).toEqual(expect.arrayContaining(['1025:1025', '8025:8025']));
  });

  it.each(apps)('publishes $name on its own port (or one Docker picks)', ({ name, port }) => {
    expect(published(name).filter((p) => p === `${port}:${port}` || p === `:${port}`)).toHaveLength(
      1,
    );
  });

  it('lets inventory scale: no container name and no fixed host port', () => {
    expect(service('inventory').container_name).toBeUndefined();
    for (const port of published('inventory')) expect(port).toMatch(/^:/);
  });

  it.each(apps)('sets every variable $name requires, pointed at the compose services', (app) => {
    const config = app.load({ ...imageEnv(app.name), ...composeEnv(app.name) });
    expect(config.http.port).toBe(app.port);
    expect(String(config.messaging.urls)).toMatch(/@rabbitmq:/);
    expect(config.database.url).toMatch(/@postgres:/);
  });
});

describe('docker-compose.yml: broker access', () => {
  const rabbitmq = service('rabbitmq');
  const mounts = new Map((rabbitmq.volumes ?? []).map((v) => [v.split(':')[1], v.split(':')[0]]));
  const rabbitmqConf = read('ops/rabbitmq/rabbitmq.conf');
  const setting = (key: string) => new RegExp(`^${key} = (.+)$`, 'm').exec(rabbitmqConf)?.[1];

  it('loads ops/rabbitmq: its config into conf.d, the definitions file where the config says', () => {
    const confD = [...mounts].filter(([target]) =>
      /^\/etc\/rabbitmq\/conf\.d\/.+\.conf$/.test(target),
    );
    expect(confD.map(([, source]) => source)).toEqual(['./ops/rabbitmq/rabbitmq.conf']);
    expect(mounts.get(setting('load_definitions') ?? '')).toBe('./ops/rabbitmq/definitions.json');
  });

  it('caps message size above what consumers accept, so an oversized one is dead-lettered', () => {
    const brokerMax = Number(setting('max_message_size'));
    const consumerMax = app0().load({ ...imageEnv(app0().name), ...composeEnv(app0().name) })
      .messaging.maxMessageBytes!;
    expect(brokerMax).toBeGreaterThan(consumerMax);
    expect(brokerMax).toBeLessThanOrEqual(1024 * 1024);
  });

  it('has no default user (a definitions file replaces it), so no guest', () => {
    expect(rabbitmq.environment ?? {}).not.toHaveProperty('RABBITMQ_DEFAULT_USER');
    expect(rabbitmq.environment ?? {}).not.toHaveProperty('RABBITMQ_DEFAULT_PASS');
    expect(brokerDefinitions.users.map((u) => u.name)).not.toContain('guest');
  });

  it.each(apps)('connects $name as its own user, with its password, on the shop vhost', (app) => {
    const url = new URL(composeEnv(app.name).RABBITMQ_URL ?? '');
    const user = brokerDefinitions.users.find((u) => u.name === url.username);

    expect(url.username).toBe(app.name);
    expect(user?.tags).toEqual([]);
    expect(passwordMatches(user?.password_hash ?? '', decodeURIComponent(url.password))).toBe(true);
    expect(url.pathname).toBe(`/${brokerDefinitions.vhosts[0]?.name}`);
    expect(brokerDefinitions.permissions.filter((p) => p.user === app.name)).toEqual([
      expect.objectContaining({ vhost: brokerDefinitions.vhosts[0]?.name }),
    ]);
  });
});

describe('docker-compose.yml: exposure and demo credentials', () => {
  it('publishes every port on this machine only (127.0.0.1)', () => {
    const ports = Object.values(compose.services).flatMap((s) => (s.ports ?? []).map(String));
    expect(ports.length).toBeGreaterThan(0);
    for (const port of ports) expect(port).toMatch(/^127\.0\.0\.1:/);
  });

  it.each(apps)('carries only documented demo credentials for $name', (app) => {
    const env = composeEnv(app.name);
    const keys = (env.API_KEYS ?? '')
      .split(',')
      .map((entry) => entry.split(':').slice(2).join(':'));
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(DEMO_API_KEYS).toContain(key);
    for (const url of [...(env.RABBITMQ_URL ?? '').split(','), env.DATABASE_URL ?? '']) {
      expect(isDemoPassword(...credentialsOf(url))).toBe(true);
    }
  });

  it.each(apps)('turns the development switch on explicitly for $name', (app) => {
    expect(service(app.name).environment).toMatchObject({
      INSECURE_DEV_MODE: expect.stringMatching(/^\$\{INSECURE_DEV_MODE:-true\}$/),
    });
  });

  it.each(apps)('refuses to start $name with those credentials without the switch', (app) => {
    const env = { ...imageEnv(app.name), ...composeEnv(app.name), INSECURE_DEV_MODE: 'false' };
    expect(() => app.load(env)).toThrow(/demo/);
  });

  it('gives the metrics scraper the admin key the services accept', () => {
    const scraperKey = (compose as { configs?: Record<string, { content?: string }> }).configs?.[
      'metrics-api-key'
    ]?.content;
    const adminKeys = (composeEnv('order').API_KEYS ?? '')
      .split(',')
      .filter((entry) => entry.split(':')[1] === 'admin');
    expect(adminKeys.map((entry) => entry.split(':')[2])).toContain(
      scraperKey?.replace(/\$\{\w+:-([^}]*)\}/, '$1'),
    );
    expect(read('ops/prometheus/prometheus.yml')).toContain(
      'credentials_file: /etc/prometheus/api-key',
    );
  });

  it('gives Grafana no anonymous access', () => {
    expect(service('grafana').environment).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: 'false' });
  });

  it.each(apps)("tells $name every service's broker user", (app) => {
    const users = Object.fromEntries(
      (composeEnv(app.name).BROKER_USERS ?? '').split(',').map((pair) => pair.split('=')),
    );
    for (const other of apps) {
      expect(users[other.name]).toBe(new URL(composeEnv(other.name).RABBITMQ_URL ?? '').username);
    }
  });
});

describe('ops/rabbitmq/definitions.json: who may send what', () => {
  const permission = (user: string) => brokerDefinitions.permissions.find((p) => p.user === user)!;
  const allows = (pattern: string, resource: string) => new RegExp(pattern).test(resource);

  it('declares the events exchange itself: no service may configure (delete, re-declare) it', () => {
    expect(brokerDefinitions.exchanges).toContainEqual(
      expect.objectContaining({ name: 'events', type: 'topic', durable: true }),
    );
    for (const app of apps) expect(allows(permission(app.name).configure, 'events')).toBe(false);
  });

  it.each(apps)('limits $name to routing keys of its own prefix on events', (app) => {
    const topic = brokerDefinitions.topic_permissions.filter((t) => t.user === app.name);
    expect(topic).toEqual([expect.objectContaining({ exchange: 'events' })]);
    expect(allows(topic[0]!.write, `${app.name}.anything`)).toBe(true);
    for (const other of apps.filter((o) => o.name !== app.name))
      expect(allows(topic[0]!.write, `${other.name}.anything`)).toBe(false);
  });

  it('lets only the services taking part in RPC write to the default exchange', () => {
    const inRpc = new Set(
      allContracts.flatMap((c) => (c.kind === 'rpc' ? [c.owner, ...c.callers] : [])),
    );
    const writers = apps
      .filter((app) => allows(permission(app.name).write, 'amq.default'))
      .map((app) => app.name);
    expect(writers.sort()).toEqual(
      apps
        .map((a) => a.name)
        .filter((n) => inRpc.has(n))
        .sort(),
    );
    expect(writers).not.toContain('notification');
  });

  it.each(apps)("keeps $name's configure and read rights to its own queues", (app) => {
    for (const other of apps.filter((o) => o.name !== app.name)) {
      expect(allows(permission(app.name).configure, `${other.name}.events`)).toBe(false);
      expect(allows(permission(app.name).read, `${other.name}.events`)).toBe(false);
    }
  });

  it.each(['inventory', 'notification'])(
    'gives the %s DLQ tool its DLQ to read and its exchange to write, nothing else',
    (name) => {
      expect(permission(`${name}-dlq`)).toMatchObject({
        configure: '^$',
        read: `^${name}\\.dlq$`,
        write: `^${name}\\.dlx$`,
      });
    },
  );
});

describe('Dockerfile', () => {
  it.each(apps)('has a $name target that runs its compiled main.ts', ({ name, port }) => {
    expect(JSON.parse(last(name, 'CMD') ?? '[]')).toEqual([
      'node',
      `dist/apps/${name}/src/main.js`,
    ]);
    expect(existsSync(new URL(`../../apps/${name}/src/main.ts`, import.meta.url))).toBe(true);
    expect(imageEnv(name).HTTP_PORT).toBe(String(port));
    expect(last(name, 'EXPOSE')).toBe(String(port));
  });

  it.each(apps)('runs $name as a non-root user with a readiness healthcheck', ({ name }) => {
    expect(last(name, 'USER')).toMatch(/^(?!root$|0$)\S+$/);
    expect(last(name, 'HEALTHCHECK')).toContain('/health/ready');
    expect(imageEnv(name).NODE_ENV).toBe('production');
  });

  it('installs with npm ci in every stage, from the committed lockfile', () => {
    const installs = dockerfileStages().flatMap((stage) =>
      chain(stage).filter((l) => l.op === 'RUN' && /\bnpm (install|i|ci)\b/.test(l.args)),
    );
    expect(installs).not.toHaveLength(0);
    for (const { args } of new Set(installs)) expect(args).toMatch(/\bnpm ci\b/);
    const copies = dockerfileStages().flatMap((stage) =>
      chain(stage).filter((l) => l.op === 'COPY' && l.args.includes('package-lock.json')),
    );
    expect(copies).not.toHaveLength(0);
  });

  it.each(apps)('ships $name with production dependencies only', ({ name }) => {
    const copies = chain(name).filter((l) => l.op === 'COPY' && l.args.includes('node_modules'));
    expect(copies).not.toHaveLength(0);
    for (const copy of copies) {
      const source = /--from=(\S+)/.exec(copy.args)?.[1] ?? '';
      const installs = chain(source).filter(
        (l) => l.op === 'RUN' && /npm (install|ci)/.test(l.args),
      );
      expect(installs.map((l) => l.args)).toEqual([expect.stringContaining('--omit=dev')]);
    }
  });
});

describe('.env.example', () => {
  const entries = envFileEntries(read('.env.example'));
  const active: Env = Object.fromEntries(
    entries.filter((e) => e.active).map((e) => [e.name, e.value]),
  );

  it('documents exactly the variables the services read, each under a comment', () => {
    const expected = new Set([
      ...Object.keys(serviceEnv),
      'HTTP_PORT',
      'DATABASE_SCHEMA',
      ...apps.flatMap((app) => Object.keys(app.own.shape)),
    ]);
    expect(entries.map((e) => e.name).sort()).toEqual([...expected].sort());
    const undocumented = entries.filter((e) => !/^#(?!\s*[A-Z0-9_]+=)/.test(e.above ?? ''));
    expect(undocumented.map((e) => e.name)).toEqual([]);
  });

  it('leaves the per-service HTTP_PORT and DATABASE_SCHEMA to each service default', () => {
    expect(active).not.toHaveProperty('HTTP_PORT');
    expect(active).not.toHaveProperty('DATABASE_SCHEMA');
  });

  it.each(apps)('starts $name with these values', (app) => {
    expect(() => app.load(active)).not.toThrow();
  });
});
