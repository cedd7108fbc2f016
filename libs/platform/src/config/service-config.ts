import { readFileSync } from 'node:fs';
import type { MessagingModuleOptions, QueueType } from '@app/messaging';
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
import { tracingConfig, type TracingConfig, tracingEnv } from '../tracing/tracing.config.js';

/** Comma-separated secrets; each long enough not to be guessed. */
const apiKeyList = z
  .string()
  .transform((value) => value.split(',').map((key) => key.trim()))
  .pipe(
    z.array(
      z
        .string()
        .regex(/^[\x21-\x7e]{16,256}$/, 'each key must be 16-256 printable characters, no spaces'),
    ),
  );

/** Variables every service reads; each app extends this with its own (see .env.example). */
export const serviceEnv = {
  RABBITMQ_URL: amqpUrls,
  DATABASE_URL: postgresUrl,
  HTTP_HOST: z.string().default('0.0.0.0'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('pretty'),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
  DB_MIGRATE_ON_START: flag.default(true),
  RABBITMQ_PREFETCH: positiveInt.default(32),
  RABBITMQ_QUEUE_TYPE: z.enum(['classic', 'quorum']).default('classic'),
  /** PEM file of the CA that signed the broker's certificate, for amqps:// URLs. */
  RABBITMQ_CA_FILE: z.string().optional(),
  RETRY_IMMEDIATE: z.coerce.number().int().min(0).max(10).default(2),
  RETRY_DELAYS_MS: z
    .string()
    .regex(
      /^[1-9]\d*(,[1-9]\d*)*$/,
      'must be comma-separated positive milliseconds, e.g. 1000,10000,60000',
    )
    .default('1000,10000,60000')
    .transform((v) => v.split(',').map(Number)),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  ...tracingEnv,
  /** Largest JSON request body; a bigger one is answered 413. */
  HTTP_BODY_LIMIT: z
    .string()
    .regex(/^[1-9]\d*(b|kb|mb)$/, 'must be a size such as 100kb or 1mb')
    .default('100kb'),
  /** Requests per minute per client (API key, else IP) before 429; 0 turns the limit off. */
  HTTP_RATE_LIMIT: z.coerce.number().int().min(0).default(1_200),
  /** Keys accepted on write endpoints (x-api-key). Unset: writes are open (development). */
  API_KEYS: apiKeyList.optional(),
  /** Keys accepted on admin endpoints (PUT /stock) and on write endpoints. */
  ADMIN_API_KEYS: apiKeyList.optional(),
};

export interface HttpConfig {
  host: string;
  port: number;
  /** body-parser size, e.g. `100kb`. */
  bodyLimit: string;
  /** Requests per minute per client; 0: no limit. */
  rateLimitPerMinute: number;
  /** Both empty: no key required (development). See libs/platform/src/http/api-key.guard.ts. */
  apiKeys: { write: string[]; admin: string[] };
}

export interface ServiceConfig {
  service: string;
  http: HttpConfig;
  database: { url: string; schema: string; migrateOnStart: boolean };
  messaging: MessagingModuleOptions;
  log: { format: 'json' | 'pretty'; level: 'error' | 'warn' | 'log' | 'debug' | 'verbose' };
  tracing: TracingConfig;
}

/**
 * Parses `env` against the common variables plus the service's own (`extra`) and maps the
 * common part. `defaults` gives each service its own port and schema.
 */
export function loadServiceConfig<E extends z.ZodObject>(
  service: string,
  env: Env,
  defaults: { port: number; schema: string },
  extra: E,
): { config: ServiceConfig; env: z.infer<E> } {
  const common = z.object({
    ...serviceEnv,
    HTTP_PORT: port.default(defaults.port),
    DATABASE_SCHEMA: schemaName.default(defaults.schema),
  });
  const [parsed, own] = parseEnvParts(env, common, extra);
  const config: ServiceConfig = {
    service,
    http: {
      host: parsed.HTTP_HOST,
      port: parsed.HTTP_PORT,
      bodyLimit: parsed.HTTP_BODY_LIMIT,
      rateLimitPerMinute: parsed.HTTP_RATE_LIMIT,
      apiKeys: { write: parsed.API_KEYS ?? [], admin: parsed.ADMIN_API_KEYS ?? [] },
    },
    database: {
      url: parsed.DATABASE_URL,
      schema: parsed.DATABASE_SCHEMA,
      migrateOnStart: parsed.DB_MIGRATE_ON_START,
    },
    messaging: {
      urls: parsed.RABBITMQ_URL,
      service,
      prefetch: parsed.RABBITMQ_PREFETCH,
      queueType: parsed.RABBITMQ_QUEUE_TYPE as QueueType,
      tls: parsed.RABBITMQ_CA_FILE ? { ca: [readCaFile(parsed.RABBITMQ_CA_FILE)] } : undefined,
      retry: { immediate: parsed.RETRY_IMMEDIATE, delaysMs: parsed.RETRY_DELAYS_MS },
      shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    },
    log: { format: parsed.LOG_FORMAT, level: parsed.LOG_LEVEL },
    tracing: tracingConfig(parsed),
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
