import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { ConfigValidationError, type Env, parseEnv, parseEnvParts } from './env.js';
import { loadServiceConfig } from './service-config.js';

const VALID: Env = {
  RABBITMQ_URL: 'amqp://guest:guest@rabbitmq:5672/shop',
  DATABASE_URL: 'postgres://shop:not-the-demo-one@postgres:5432/shop',
  API_KEYS: 'web:write:write-key-aaaaaaaaaaaa',
};

const noExtra = z.object({});
const load = (env: Env, extra: z.ZodObject = noExtra) =>
  loadServiceConfig('order', env, { port: 3001, schema: 'orders' }, extra);

/** Runs `fn`, which must throw a ConfigValidationError, and returns that error. */
function configError(fn: () => unknown): ConfigValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return error as ConfigValidationError;
  }
  throw new Error('expected a ConfigValidationError, but nothing was thrown');
}

describe('parseEnvParts', () => {
  const a = z.object({ A_PORT: z.coerce.number().int(), A_NAME: z.string() });
  const b = z.object({ B_URL: z.string().regex(/^https:\/\//, 'must be https') });

  it('returns each schema’s parsed part', () => {
    expect(parseEnvParts({ A_PORT: '80', A_NAME: 'x', B_URL: 'https://b' }, a, b)).toEqual([
      { A_PORT: 80, A_NAME: 'x' },
      { B_URL: 'https://b' },
    ]);
  });

  it('reports the problems of both schemas in one error', () => {
    const error = configError(() => parseEnvParts({ A_PORT: 'eighty', B_URL: 'http://b' }, a, b));

    expect(error.problems).toHaveLength(3);
    expect(error.problems).toContain('A_NAME: is required');
    expect(error.problems).toContain('B_URL: must be https');
    expect(error.problems.some((p) => p.startsWith('A_PORT: '))).toBe(true);
    for (const name of ['A_PORT', 'A_NAME', 'B_URL']) expect(error.message).toContain(name);
  });

  it('says "is required" for a missing variable and gives the rule for a bad one', () => {
    const error = configError(() => parseEnvParts({ B_URL: 'ftp://b' }, b));
    expect(error.problems).toEqual(['B_URL: must be https']);

    const missing = configError(() => parseEnvParts({}, b));
    expect(missing.problems).toEqual(['B_URL: is required']);
  });

  it('treats an empty string as unset', () => {
    const error = configError(() => parseEnvParts({ A_PORT: '', A_NAME: 'x' }, a));

    expect(error.problems).toEqual(['A_PORT: is required']);
  });

  it('lets a default apply to a variable set to an empty string', () => {
    const withDefault = z.object({ LEVEL: z.string().default('info') });

    expect(parseEnv(withDefault, { LEVEL: '' })).toEqual({ LEVEL: 'info' });
  });

  it('returns an empty second part when only one schema is given', () => {
    expect(parseEnvParts({ A_PORT: '1', A_NAME: 'x' }, a)).toEqual([
      { A_PORT: 1, A_NAME: 'x' },
      {},
    ]);
  });

  it('names the error so logs show what failed', () => {
    expect(configError(() => parseEnv(b, {})).name).toBe('ConfigValidationError');
  });
});

describe('loadServiceConfig', () => {
  it('loads the CA named by RABBITMQ_CA_FILE for amqps connections', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-'));
    const file = join(dir, 'ca.pem');
    writeFileSync(file, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    try {
      const { config } = load({
        ...VALID,
        RABBITMQ_URL: 'amqps://u:p@rabbit:5671',
        RABBITMQ_CA_FILE: file,
      });
      expect(config.messaging.tls?.ca?.[0]?.toString()).toContain('BEGIN CERTIFICATE');
      expect(load(VALID).config.messaging.tls).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes the heartbeat, the connect and the publish timeouts to messaging', () => {
    const set = load({
      ...VALID,
      RABBITMQ_HEARTBEAT_SECONDS: '2',
      RABBITMQ_CONNECT_TIMEOUT_MS: '5000',
      RABBITMQ_PUBLISH_TIMEOUT_MS: '3000',
    });
    expect(set.config.messaging).toMatchObject({
      heartbeatSeconds: 2,
      connectTimeoutMs: 5_000,
      publishTimeoutMs: 3_000,
    });
  });

  it('names RABBITMQ_CA_FILE when the file cannot be read', () => {
    const error = configError(() => load({ ...VALID, RABBITMQ_CA_FILE: '/nonexistent/ca.pem' }));
    expect(error.problems[0]).toMatch(/^RABBITMQ_CA_FILE: cannot read \/nonexistent\/ca\.pem/);
  });

  it('names every bad or missing variable in one error', () => {
    const error = configError(() =>
      load({ RABBITMQ_URL: 'http://rabbitmq:5672', HTTP_PORT: 'eighty' }),
    );

    expect(error.message).toContain('RABBITMQ_URL');
    expect(error.message).toContain('DATABASE_URL: is required');
    expect(error.message).toContain('HTTP_PORT');
    expect(error.problems).toHaveLength(3);
  });

  it('reports the service’s own variables together with the common ones', () => {
    const extra = z.object({ SMTP_URL: z.string() });

    const error = configError(() => load({ RABBITMQ_URL: VALID.RABBITMQ_URL }, extra));

    expect(error.problems).toEqual(['DATABASE_URL: is required', 'SMTP_URL: is required']);
  });

  it('rejects a DATABASE_URL that is not a postgres URL', () => {
    const error = configError(() => load({ ...VALID, DATABASE_URL: 'mysql://db/shop' }));

    expect(error.problems).toEqual(['DATABASE_URL: must be a postgres:// URL']);
  });

  it('treats empty strings as unset, so required variables are reported missing', () => {
    const error = configError(() => load({ RABBITMQ_URL: '', DATABASE_URL: '' }));

    expect(error.problems).toEqual(['RABBITMQ_URL: is required', 'DATABASE_URL: is required']);
  });

  it('turns a single RABBITMQ_URL into a one-node list', () => {
    expect(load(VALID).config.messaging.urls).toEqual([VALID.RABBITMQ_URL]);
  });

  it('splits a comma-separated RABBITMQ_URL into cluster nodes, trimming spaces', () => {
    const { config } = load({ ...VALID, RABBITMQ_URL: 'amqp://a:5672, amqps://b:5671/vh' });

    expect(config.messaging.urls).toEqual(['amqp://a:5672', 'amqps://b:5671/vh']);
  });

  it('rejects a cluster list in which one node is not an amqp URL', () => {
    const error = configError(() => load({ ...VALID, RABBITMQ_URL: 'amqp://a,http://b' }));

    expect(error.problems).toEqual(['RABBITMQ_URL.1: must be an amqp:// or amqps:// URL']);
  });

  it('gives the rule, not "is required", for a set but invalid RABBITMQ_URL', () => {
    const error = configError(() => load({ ...VALID, RABBITMQ_URL: 'http://rabbitmq:5672' }));

    expect(error.message).toContain('must be an amqp:// or amqps:// URL');
    expect(error.message).not.toMatch(/RABBITMQ_URL[.\d]*: is required/);
  });

  it('applies the defaults when only the required variables are set', () => {
    const { config } = load(VALID);

    expect(config).toEqual({
      service: 'order',
      http: {
        host: '0.0.0.0',
        port: 3001,
        bodyLimit: '100kb',
        rateLimitPerMinute: 1200,
        apiKeys: [{ client: 'web', role: 'write', key: 'write-key-aaaaaaaaaaaa' }],
      },
      database: { url: VALID.DATABASE_URL, schema: 'orders', migrateOnStart: true, poolSize: 10 },
      messaging: {
        urls: [VALID.RABBITMQ_URL],
        service: 'order',
        prefetch: 32,
        queueType: 'classic',
        retry: { immediate: 2, delaysMs: [1000, 10000, 60000] },
        shutdownTimeoutMs: 10000,
        maxMessageBytes: 65536,
        deadLetterQueueMaxLength: 100000,
        heartbeatSeconds: 10,
        publishTimeoutMs: 10_000,
        connectTimeoutMs: 30000,
      },
      log: { format: 'pretty', level: 'log' },
      tracing: { exporter: 'none' },
      insecureDevMode: false,
    });
  });

  it('uses each service’s own default port and schema', () => {
    const { config } = loadServiceConfig(
      'inventory',
      VALID,
      { port: 3002, schema: 'inventory' },
      noExtra,
    );

    expect(config.http.port).toBe(3002);
    expect(config.database.schema).toBe('inventory');
    expect(config.messaging.service).toBe('inventory');
  });

  it('lets HTTP_PORT and DATABASE_SCHEMA override the service defaults', () => {
    const { config } = load({ ...VALID, HTTP_PORT: '8080', DATABASE_SCHEMA: 'orders_test' });

    expect(config.http.port).toBe(8080);
    expect(config.database.schema).toBe('orders_test');
  });

  it('rejects a port outside 0-65535 and a schema that is not an SQL identifier', () => {
    const error = configError(() =>
      load({ ...VALID, HTTP_PORT: '70000', DATABASE_SCHEMA: 'Orders-Test' }),
    );

    expect(error.problems).toEqual([
      expect.stringMatching(/^HTTP_PORT: /),
      'DATABASE_SCHEMA: must be a lower-case SQL identifier',
    ]);
  });

  it('parses RETRY_DELAYS_MS into milliseconds per tier', () => {
    const { config } = load({ ...VALID, RETRY_DELAYS_MS: '500,5000', RETRY_IMMEDIATE: '0' });

    expect(config.messaging.retry).toEqual({ immediate: 0, delaysMs: [500, 5000] });
  });

  it.each(['1000,', '1s,10s', '1000, 2000', '-1', '0', '1000,0'])(
    'rejects RETRY_DELAYS_MS=%j',
    (value) => {
      const error = configError(() => load({ ...VALID, RETRY_DELAYS_MS: value }));

      expect(error.problems).toEqual([
        'RETRY_DELAYS_MS: must be comma-separated positive milliseconds, e.g. 1000,10000,60000',
      ]);
    },
  );

  it.each([
    ['true', true],
    ['false', false],
  ])('reads DB_MIGRATE_ON_START=%s as %s', (value, expected) => {
    expect(load({ ...VALID, DB_MIGRATE_ON_START: value }).config.database.migrateOnStart).toBe(
      expected,
    );
  });

  it('rejects a DB_MIGRATE_ON_START that is neither true nor false', () => {
    const error = configError(() => load({ ...VALID, DB_MIGRATE_ON_START: 'yes' }));

    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(/^DB_MIGRATE_ON_START: /);
  });

  it('maps the messaging and log variables', () => {
    const { config } = load({
      ...VALID,
      RABBITMQ_PREFETCH: '5',
      RABBITMQ_QUEUE_TYPE: 'quorum',
      SHUTDOWN_TIMEOUT_MS: '2500',
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'debug',
      HTTP_HOST: '127.0.0.1',
    });

    expect(config.messaging).toMatchObject({
      prefetch: 5,
      queueType: 'quorum',
      shutdownTimeoutMs: 2500,
    });
    expect(config.log).toEqual({ format: 'json', level: 'debug' });
    expect(config.http.host).toBe('127.0.0.1');
  });

  it('returns the service’s own variables parsed by its schema', () => {
    const extra = z.object({ RPC_TIMEOUT_MS: z.coerce.number().default(5000) });

    expect(load({ ...VALID, RPC_TIMEOUT_MS: '750' }, extra).env).toEqual({ RPC_TIMEOUT_MS: 750 });
    expect(load(VALID, extra).env).toEqual({ RPC_TIMEOUT_MS: 5000 });
  });

  it('maps the HTTP hardening variables, API keys as client, role and key', () => {
    const { config } = load({
      ...VALID,
      HTTP_BODY_LIMIT: '1mb',
      HTTP_RATE_LIMIT: '0',
      API_KEYS: 'web:read:read-key-aaaaaaaaaaaa, ops:admin:admin:key-with-colons',
    });

    expect(config.http).toMatchObject({
      bodyLimit: '1mb',
      rateLimitPerMinute: 0,
      apiKeys: [
        { client: 'web', role: 'read', key: 'read-key-aaaaaaaaaaaa' },
        { client: 'ops', role: 'admin', key: 'admin:key-with-colons' },
      ],
    });
  });

  it('refuses a short key, an entry without client or role, and a body limit without a unit', () => {
    const error = configError(() =>
      load({
        ...VALID,
        API_KEYS: 'web:write:secret,write-key-bbbbbbbbbbbb,web:owner:key-cccccccccccccc',
        HTTP_BODY_LIMIT: '100',
      }),
    );

    expect(error.problems).toHaveLength(4);
    expect(error.problems[0]).toBe('HTTP_BODY_LIMIT: must be a size such as 100kb or 1mb');
    for (const i of [0, 1, 2]) {
      expect(error.problems[i + 1]).toMatch(
        new RegExp(`^API_KEYS\\.${i}: each entry must be <client>:<read\\|write\\|admin>:<key>`),
      );
    }
  });

  it('maps BROKER_USERS, the message size limit and the DLQ bound to the messaging options', () => {
    const { config } = load({
      ...VALID,
      BROKER_USERS: 'order=order-svc, inventory=inventory-svc',
      RABBITMQ_MAX_MESSAGE_BYTES: '1024',
      DLQ_MAX_LENGTH: '50',
    });

    expect(config.messaging).toMatchObject({
      brokerUsers: { order: 'order-svc', inventory: 'inventory-svc' },
      maxMessageBytes: 1024,
      deadLetterQueueMaxLength: 50,
    });
  });
});

describe('fail closed', () => {
  it('refuses to start without API keys', () => {
    const { API_KEYS: _none, ...keyless } = VALID;
    const error = configError(() => load(keyless));

    expect(error.problems).toEqual([expect.stringMatching(/^API_KEYS: is required/)]);
    expect(error.message).toContain('INSECURE_DEV_MODE=true');
  });

  it.each([
    ['a demo API key', { API_KEYS: 'web:write:local-dev-api-key-0001' }, 'API_KEYS'],
    [
      'a demo broker password',
      { RABBITMQ_URL: 'amqp://order:order-secret@rabbitmq:5672/shop' },
      'RABBITMQ_URL',
    ],
    [
      'a demo database password',
      { DATABASE_URL: 'postgres://shop:shop@postgres:5432/shop' },
      'DATABASE_URL',
    ],
  ])('refuses %s', (_, env, variable) => {
    const error = configError(() => load({ ...VALID, ...env }));

    expect(error.problems).toEqual([expect.stringMatching(new RegExp(`^${variable}: .*demo`))]);
  });

  it('takes no keys and the demo credentials with INSECURE_DEV_MODE=true, and says so', () => {
    const { config } = load({
      RABBITMQ_URL: 'amqp://order:order-secret@rabbitmq:5672/shop',
      DATABASE_URL: 'postgres://shop:shop@postgres:5432/shop',
      INSECURE_DEV_MODE: 'true',
    });

    expect(config.insecureDevMode).toBe(true);
    expect(config.http.apiKeys).toEqual([]);
  });
});

describe('loadServiceConfig, continued', () => {
  it('ignores variables it does not know', () => {
    expect(() => load({ ...VALID, PATH: '/usr/bin', HOME: '/root' })).not.toThrow();
  });
});
