import { Defaults } from '@app/messaging';
import {
  type Env,
  loadServiceConfig,
  positiveInt,
  type ServiceConfig,
  type ServiceDefaults,
} from '@app/platform';
import { z } from 'zod';

export interface OrderConfig extends ServiceConfig {
  order: {
    /** A PENDING order older than this (e.g. its process died mid-request) is rejected. */
    pendingTimeoutMs: number;
    /** GET /orders/:id/events: streams one client may hold at once, and how long one lasts. */
    statusStreams: { maxStreamsPerClient: number; maxLifetimeMs: number };
  };
}

/**
 * The variables only this service reads (the common ones are in @app/platform serviceEnv); the
 * RPC ones default to the transport's own `Defaults`.
 */
export const orderEnv = z.object({
  RPC_TIMEOUT_MS: positiveInt.default(Defaults.rpcTimeoutMs),
  PENDING_ORDER_TIMEOUT_MS: positiveInt.default(60_000),
  RPC_CIRCUIT_FAILURES: positiveInt.default(Defaults.circuitFailureThreshold),
  RPC_CIRCUIT_COOLDOWN_MS: positiveInt.default(Defaults.circuitCooldownMs),
  SSE_MAX_STREAMS_PER_CLIENT: positiveInt.default(20),
  SSE_MAX_LIFETIME_MS: positiveInt.default(300_000),
});

/** Its HTTP port and database schema, unless HTTP_PORT / DATABASE_SCHEMA say otherwise. */
export const orderDefaults: ServiceDefaults = { port: 3001, schema: 'orders' };

export function loadOrderConfig(env: Env = process.env): OrderConfig {
  const { config, env: own } = loadServiceConfig('order', env, orderDefaults, orderEnv);
  return {
    ...config,
    messaging: {
      ...config.messaging,
      // How long POST /orders waits for inventory.reserve; also the request's AMQP expiration.
      rpcTimeoutMs: own.RPC_TIMEOUT_MS,
      circuitBreaker: {
        failureThreshold: own.RPC_CIRCUIT_FAILURES,
        cooldownMs: own.RPC_CIRCUIT_COOLDOWN_MS,
      },
    },
    order: {
      pendingTimeoutMs: own.PENDING_ORDER_TIMEOUT_MS,
      statusStreams: {
        maxStreamsPerClient: own.SSE_MAX_STREAMS_PER_CLIENT,
        maxLifetimeMs: own.SSE_MAX_LIFETIME_MS,
      },
    },
  };
}
