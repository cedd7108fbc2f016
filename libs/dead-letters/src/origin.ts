import { HeaderNames } from '@app/messaging';

/**
 * Headers RabbitMQ itself writes when it dead-letters a message (a reject without requeue,
 * an expired TTL, a quorum queue's `x-delivery-limit`): https://www.rabbitmq.com/docs/dlx
 */
export const BrokerHeaders = {
  death: 'x-death',
  firstDeathQueue: 'x-first-death-queue',
  firstDeathReason: 'x-first-death-reason',
  firstDeathExchange: 'x-first-death-exchange',
  lastDeathQueue: 'x-last-death-queue',
  lastDeathReason: 'x-last-death-reason',
  lastDeathExchange: 'x-last-death-exchange',
  /** Quorum queues count redeliveries here, including the ones a DLQ listing causes. */
  deliveryCount: 'x-delivery-count',
} as const;

/** The newest entry of `x-death`: where the broker last dead-lettered the message from, and why. */
export interface BrokerDeath {
  queue: string | undefined;
  exchange: string | undefined;
  routingKeys: string[];
  reason: string | undefined;
  /** ISO-8601. */
  time: string | undefined;
}

/** Where a dead letter was first consumed: where a replay sends it back to. */
export interface Origin {
  queue: string;
  exchange: string | undefined;
  routingKey: string | undefined;
}

/** RabbitMQ keeps `x-death` newest first, one entry per queue and reason. */
export function latestDeath(headers: Record<string, unknown>): BrokerDeath | undefined {
  const deaths = headers[BrokerHeaders.death];
  if (!Array.isArray(deaths) || deaths.length === 0) return undefined;
  const first = deaths[0] as Record<string, unknown>;
  if (typeof first !== 'object' || first === null) return undefined;
  const keys = first['routing-keys'];
  return {
    queue: text(first.queue),
    exchange: typeof first.exchange === 'string' ? first.exchange : undefined,
    routingKeys: Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [],
    reason: text(first.reason),
    time: isoTime(first.time),
  };
}

/**
 * Our own `x-original-*` headers win: a message that went through a retry tier also carries
 * an `x-death` entry of that delay queue (reason `expired`), which is not where it belongs.
 */
export function resolveOrigin(headers: Record<string, unknown>): Origin | undefined {
  const queue = text(headers[HeaderNames.originalQueue]);
  if (queue) {
    return {
      queue,
      exchange: stringOrEmpty(headers[HeaderNames.originalExchange]),
      routingKey: text(headers[HeaderNames.originalRoutingKey]),
    };
  }
  const death = latestDeath(headers);
  if (!death?.queue) return undefined;
  return { queue: death.queue, exchange: death.exchange, routingKey: death.routingKeys[0] };
}

/** amqplib decodes an AMQP timestamp (seconds) as `{ '!': 'timestamp', value }`. */
export function isoTime(value: unknown): string | undefined {
  const seconds =
    typeof value === 'object' && value !== null && '!' in value && 'value' in value
      ? (value as { value: unknown }).value
      : value;
  return typeof seconds === 'number' && Number.isFinite(seconds)
    ? new Date(seconds * 1000).toISOString()
    : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** The default exchange is `""`, a real value here. */
function stringOrEmpty(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
