// No Docker engine runs these files here, so they are checked by reading them: compose and the
// Dockerfile against each other, and the environment they give against each app's real config
// loader.
import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { type Env, serviceEnv } from '@app/platform';
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
