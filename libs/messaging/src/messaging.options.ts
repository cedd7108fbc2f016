import { allContracts, type MessageContract } from '@app/contracts';
import { Defaults } from './constants.js';

export type QueueType = 'classic' | 'quorum';

export interface RetryOptions {
  /** Extra in-process attempts right after a failure, before the delayed tiers. */
  immediate: number;
  /** One delay queue per entry; a message goes through them in order, then to the DLQ. */
  delaysMs: readonly number[];
}

export interface CircuitBreakerOptions {
  /** Consecutive calls to one service that time out or cannot be sent before it opens. */
  failureThreshold: number;
  /** How long an open circuit fails calls at once before one probe goes through. */
  cooldownMs: number;
}

export interface MessagingModuleOptions {
  /** One URL or a list of cluster nodes (`amqp://` or `amqps://`, vhost in the path). */
  urls: string | readonly string[];
  /** The owning service: it names the service's queues and goes out as `app_id`. */
  service: string;
  /** Unacked deliveries per event consumer. */
  prefetch?: number;
  /** Unacked deliveries per RPC consumer. */
  rpcPrefetch?: number;
  /** Default RPC timeout; also the request's AMQP `expiration`. */
  rpcTimeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Per called service; `false` turns it off. */
  circuitBreaker?: Partial<CircuitBreakerOptions> | false;
  queueType?: QueueType;
  shutdownTimeoutMs?: number;
  /** How long start-up waits for the broker before failing. */
  connectTimeoutMs?: number;
  heartbeatSeconds?: number;
  /**
   * How long a publish waits for the broker's confirm. Past it the publish fails (the outbox
   * sends it again) and the connection is replaced: a node that takes publishes without
   * confirming them is cut off from its cluster or stuck.
   */
  publishTimeoutMs?: number;
  /** TLS for `amqps://` URLs: the CA certificates (PEM) to trust. */
  tls?: { ca?: Buffer[] };
  /**
   * The broker user each service connects as (`order` → `order`), which consumers compare with
   * a message's `user_id`. A service missing here is taken to share this process's own user
   * (local development: every service connects as one user).
   */
  brokerUsers?: Readonly<Record<string, string>>;
  /** A delivery whose body is larger is dead-lettered (`too-large`) before it is parsed. */
  maxMessageBytes?: number;
  /** Dead letters `<service>.dlq` keeps; past it, failed messages wait in their work queue. */
  deadLetterQueueMaxLength?: number;
  /**
   * The messages Nest's untyped `client.send(pattern, data)` / `emit(pattern, data)` know by
   * name (their version and schemas); every contract of `@app/contracts` unless given.
   */
  contracts?: readonly MessageContract[];
}

export type ResolvedMessagingOptions = Required<
  Omit<
    MessagingModuleOptions,
    'urls' | 'retry' | 'circuitBreaker' | 'tls' | 'brokerUsers' | 'contracts'
  >
> & {
  contracts: readonly MessageContract[];
  tls?: { ca?: Buffer[] };
  urls: readonly string[];
  /** The user this process connects as: every message it publishes carries it as `user_id`. */
  brokerUser: string;
  brokerUsers: Readonly<Record<string, string>>;
  retry: RetryOptions;
  circuitBreaker: CircuitBreakerOptions | false;
};

export function resolveMessagingOptions(options: MessagingModuleOptions): ResolvedMessagingOptions {
  const urls = typeof options.urls === 'string' ? [options.urls] : options.urls;
  return {
    urls,
    service: options.service,
    brokerUser: brokerUserOf(urls),
    brokerUsers: options.brokerUsers ?? {},
    maxMessageBytes: options.maxMessageBytes ?? Defaults.maxMessageBytes,
    deadLetterQueueMaxLength: options.deadLetterQueueMaxLength ?? Defaults.deadLetterQueueMaxLength,
    prefetch: options.prefetch ?? Defaults.prefetch,
    rpcPrefetch: options.rpcPrefetch ?? Defaults.rpcPrefetch,
    rpcTimeoutMs: options.rpcTimeoutMs ?? Defaults.rpcTimeoutMs,
    queueType: options.queueType ?? Defaults.queueType,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? Defaults.shutdownTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? Defaults.connectTimeoutMs,
    tls: options.tls,
    contracts: options.contracts ?? allContracts,
    heartbeatSeconds: options.heartbeatSeconds ?? Defaults.heartbeatSeconds,
    publishTimeoutMs: options.publishTimeoutMs ?? Defaults.publishTimeoutMs,
    retry: {
      immediate: options.retry?.immediate ?? Defaults.immediateRetries,
      delaysMs: options.retry?.delaysMs ?? Defaults.retryDelaysMs,
    },
    circuitBreaker:
      options.circuitBreaker === false
        ? false
        : {
            failureThreshold:
              options.circuitBreaker?.failureThreshold ?? Defaults.circuitFailureThreshold,
            cooldownMs: options.circuitBreaker?.cooldownMs ?? Defaults.circuitCooldownMs,
          },
  };
}

/**
 * The user in the URLs (amqplib's default, `guest`, when none is given). RabbitMQ refuses a
 * `user_id` other than the connection's user, so every node of the list must use the same one.
 */
export function brokerUserOf(urls: readonly string[]): string {
  const users = new Set(
    urls.map((url) => {
      const { username } = new URL(url);
      return username ? decodeURIComponent(username) : 'guest';
    }),
  );
  if (users.size !== 1) {
    throw new Error(`Every RabbitMQ URL must use the same user (found ${[...users].join(', ')})`);
  }
  return [...users][0]!;
}
