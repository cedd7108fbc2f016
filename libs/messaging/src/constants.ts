/** Every default and header name of the messaging layer, in one place. */
export const HeaderNames = {
  version: 'x-message-version',
  /** On RPC requests, whose correlation_id is the per-call id: the request id it belongs to. */
  requestId: 'x-request-id',
  attempts: 'x-attempts',
  deathReason: 'x-death-reason',
  errorMessage: 'x-error-message',
  originalQueue: 'x-original-queue',
  originalRoutingKey: 'x-original-routing-key',
  originalExchange: 'x-original-exchange',
  /** The `user_id` the message first arrived with (the broker vouched for it then). */
  originalUserId: 'x-original-user-id',
  failedAt: 'x-failed-at',
  service: 'x-service',
} as const;

/** Every `x-death-reason` a consumer of ours writes on a dead letter (docs/messaging.md). */
export const DEATH_REASONS = [
  'malformed',
  'unknown-type',
  'invalid',
  'rejected',
  'retries-exhausted',
  'no-reply-to',
  'untrusted-publisher',
  'too-large',
] as const;

export const Defaults = {
  prefetch: 32,
  rpcPrefetch: 64,
  rpcTimeoutMs: 5_000,
  circuitFailureThreshold: 5,
  circuitCooldownMs: 10_000,
  heartbeatSeconds: 10,
  reconnectSeconds: 1,
  /** A publish not confirmed within this time fails loudly instead of waiting forever. */
  publishTimeoutMs: 10_000,
  shutdownTimeoutMs: 10_000,
  connectTimeoutMs: 30_000,
  /**
   * One connection attempt to one node: an unreachable node (a partition drops the packets)
   * would otherwise hold the reconnect loop for the OS's TCP timeout (minutes) before the
   * next node of the list is tried.
   */
  connectAttemptTimeoutMs: 5_000,
  immediateRetries: 2,
  retryDelaysMs: [1_000, 10_000, 60_000],
  queueType: 'classic',
  /** Safety net on quorum queues: a message redelivered this often is dead-lettered by the broker. */
  quorumDeliveryLimit: 20,
  /** Effectively unlimited, for dead-letter queues that are read with requeues. */
  quorumDeadLetterDeliveryLimit: 1_000_000,
  /** Our messages are a few KB; the broker's own max_message_size (ops/rabbitmq) is larger. */
  maxMessageBytes: 64 * 1024,
  deadLetterQueueMaxLength: 100_000,
  /** How long a delivery waits before it is requeued when its DLQ or retry queue refused it. */
  refusedMoveBackoffMs: 1_000,
} as const;

export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
export const JSON_CONTENT_TYPE = 'application/json';
