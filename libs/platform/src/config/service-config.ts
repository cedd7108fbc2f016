import { readFileSync } from 'node:fs';
import { Defaults, type MessagingModuleOptions, type QueueType } from '@app/messaging';
import { z } from 'zod';
import {
  amqpUrls,
  ConfigValidationError,
  flag,
  type Env,
  parseEnvParts,
  port,
  positiveInt,
  postgresUrl,
  schemaName,
} from './env.js';
import type { ApiKeyEntry, ApiKeyRole } from '../http/api-keys.js';
import { tracingConfig, type TracingConfig, tracingEnv } from '../tracing/tracing.config.js';
import { insecureSettings } from './insecure-settings.js';

/** Comma-separated `<client>:<role>:<key>` entries; each key long enough not to be guessed. */
const apiKeyList = z
  .string()
  .transform((value) => value.split(',').map((entry) => entry.trim()))
  .pipe(
    z.array(
      z
        .string()
        .regex(
          /^[a-z0-9][a-z0-9._-]{0,63}:(read|write|admin):[\x21-\x7e]{16,256}$/,
          'each entry must be <client>:<read|write|admin>:<key>, the client 1-64 characters of a-z, 0-9, ".", "_" and "-", the key 16-256 printable characters, no spaces',
        )
        .transform((entry): ApiKeyEntry => {
          const [client, role, ...key] = entry.split(':');
          return { client: client!, role: role as ApiKeyRole, key: key.join(':') };
        }),
    ),
  );

/** Comma-separated `<service>=<broker user>` pairs. */
const brokerUserMap = z
  .string()
  .transform((value) => value.split(',').map((pair) => pair.trim()))
  .pipe(
    z.array(
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]*=[^\s=,]+$/, 'each entry must be <service>=<broker user>'),
    ),
  )
  .transform((pairs) =>
    Object.fromEntries(pairs.map((pair) => pair.split('=') as [string, string])),
  );

/**
 * Variables every service reads; each app extends this with its own (see .env.example). The
 * messaging defaults are the transport's own (`Defaults` in libs/messaging/src/constants.ts).
 */
export const serviceEnv = {
  RABBITMQ_URL: amqpUrls,
  DATABASE_URL: postgresUrl,
  HTTP_HOST: z.string().default('0.0.0.0'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('pretty'),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
  DB_MIGRATE_ON_START: flag.default(true),
  /** Connections to PostgreSQL; statements beyond them wait in the pool's queue. */
  DB_POOL_SIZE: positiveInt.default(10),
  RABBITMQ_PREFETCH: positiveInt.default(Defaults.prefetch),
  RABBITMQ_QUEUE_TYPE: z.enum(['classic', 'quorum']).default(Defaults.queueType),
  /** PEM file of the CA that signed the broker's certificate, for amqps:// URLs. */
  RABBITMQ_CA_FILE: z.string().optional(),
  /** AMQP heartbeat: a connection silent for two of these is taken for dead and replaced. */
  RABBITMQ_HEARTBEAT_SECONDS: positiveInt.default(Defaults.heartbeatSeconds),
  /** How long a publish waits for its confirm before it fails and the connection is replaced. */
  RABBITMQ_PUBLISH_TIMEOUT_MS: positiveInt.default(Defaults.publishTimeoutMs),
  /** How long start-up waits for the broker before the service exits. */
  RABBITMQ_CONNECT_TIMEOUT_MS: positiveInt.default(Defaults.connectTimeoutMs),
  RETRY_IMMEDIATE: z.coerce.number().int().min(0).max(10).default(Defaults.immediateRetries),
  RETRY_DELAYS_MS: z
    .string()
    .regex(
      /^[1-9]\d*(,[1-9]\d*)*$/,
      'must be comma-separated positive milliseconds, e.g. 1000,10000,60000',
    )
    .default(Defaults.retryDelaysMs.join(','))
    .transform((v) => v.split(',').map(Number)),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(Defaults.shutdownTimeoutMs),
  ...tracingEnv,
  /** Largest JSON request body; a bigger one is answered 413. */
  HTTP_BODY_LIMIT: z
    .string()
    .regex(/^[1-9]\d*(b|kb|mb)$/, 'must be a size such as 100kb or 1mb')
    .default('100kb'),
  /** Requests per minute per client (API key, else IP) before 429; 0 turns the limit off. */
  HTTP_RATE_LIMIT: z.coerce.number().int().min(0).default(1_200),
  /** The HTTP API's clients: `<client>:<role>:<key>,...`. Required unless INSECURE_DEV_MODE. */
  API_KEYS: apiKeyList.optional(),
  /** Development only: run without API keys and with the documented demo credentials. */
  INSECURE_DEV_MODE: flag.default(false),
  /** Each service's broker user, compared with incoming messages' user_id. */
  BROKER_USERS: brokerUserMap.optional(),
  /** Largest message body a consumer parses; a larger one goes to the DLQ (too-large). */
  RABBITMQ_MAX_MESSAGE_BYTES: positiveInt.default(Defaults.maxMessageBytes),
  /** Dead letters <service>.dlq keeps; past it, failed messages wait in their work queue. */
  DLQ_MAX_LENGTH: positiveInt.default(Defaults.deadLetterQueueMaxLength),
};

export interface HttpConfig {
  host: string;
  port: number;
  /** body-parser size, e.g. `100kb`. */
  bodyLimit: string;
  /** Requests per minute per client; 0: no limit. */
  rateLimitPerMinute: number;
  /** Empty only with INSECURE_DEV_MODE: no key required. See libs/platform/src/http/api-key.guard.ts. */
  apiKeys: ApiKeyEntry[];
}

export interface ServiceConfig {
  service: string;
  http: HttpConfig;
  database: { url: string; schema: string; migrateOnStart: boolean; poolSize: number };
  messaging: MessagingModuleOptions;
  log: { format: 'json' | 'pretty'; level: 'error' | 'warn' | 'log' | 'debug' | 'verbose' };
  tracing: TracingConfig;
  /** INSECURE_DEV_MODE: logged as a warning on every start. */
  insecureDevMode: boolean;
}

/**
 * A service's own HTTP port and database schema, stated once in its `*.config.ts`;
 * apps/services.ts (the Dockerfile, compose and deployment checks) read them from there.
 */
export interface ServiceDefaults {
  readonly port: number;
  readonly schema: string;
}

/**
 * Parses `env` against the common variables plus the service's own (`extra`) and maps the
 * common part. `defaults` gives each service its own port and schema.
 */
export function loadServiceConfig<E extends z.ZodObject>(
  service: string,
  env: Env,
  defaults: ServiceDefaults,
  extra: E,
): { config: ServiceConfig; env: z.infer<E> } {
  const common = z.object({
    ...serviceEnv,
    HTTP_PORT: port.default(defaults.port),
    DATABASE_SCHEMA: schemaName.default(defaults.schema),
  });
  const [parsed, own] = parseEnvParts(env, common, extra);
  const problems = insecureSettings(parsed);
  if (problems.length > 0 && !parsed.INSECURE_DEV_MODE) throw new ConfigValidationError(problems);
  const config: ServiceConfig = {
    service,
    http: {
      host: parsed.HTTP_HOST,
      port: parsed.HTTP_PORT,
      bodyLimit: parsed.HTTP_BODY_LIMIT,
      rateLimitPerMinute: parsed.HTTP_RATE_LIMIT,
      apiKeys: parsed.API_KEYS ?? [],
    },
    database: {
      url: parsed.DATABASE_URL,
      schema: parsed.DATABASE_SCHEMA,
      migrateOnStart: parsed.DB_MIGRATE_ON_START,
      poolSize: parsed.DB_POOL_SIZE,
    },
    messaging: {
      urls: parsed.RABBITMQ_URL,
      service,
      prefetch: parsed.RABBITMQ_PREFETCH,
      queueType: parsed.RABBITMQ_QUEUE_TYPE as QueueType,
      heartbeatSeconds: parsed.RABBITMQ_HEARTBEAT_SECONDS,
      publishTimeoutMs: parsed.RABBITMQ_PUBLISH_TIMEOUT_MS,
      connectTimeoutMs: parsed.RABBITMQ_CONNECT_TIMEOUT_MS,
      tls: parsed.RABBITMQ_CA_FILE ? { ca: [readCaFile(parsed.RABBITMQ_CA_FILE)] } : undefined,
      retry: { immediate: parsed.RETRY_IMMEDIATE, delaysMs: parsed.RETRY_DELAYS_MS },
      shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
      brokerUsers: parsed.BROKER_USERS,
      maxMessageBytes: parsed.RABBITMQ_MAX_MESSAGE_BYTES,
      deadLetterQueueMaxLength: parsed.DLQ_MAX_LENGTH,
    },
    log: { format: parsed.LOG_FORMAT, level: parsed.LOG_LEVEL },
    tracing: tracingConfig(parsed),
    insecureDevMode: parsed.INSECURE_DEV_MODE,
  };
  return { config, env: own };
}

function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigValidationError([
      `RABBITMQ_CA_FILE: cannot read ${path} (${(error as Error).message})`,
    ]);
  }
}
