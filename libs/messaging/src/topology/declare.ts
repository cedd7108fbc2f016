import type { Channel, ChannelModel } from 'amqplib';
import { Defaults } from '../constants.js';
import type { QueueType } from '../messaging.options.js';
import {
  deadLetterQueue,
  EVENTS_EXCHANGE,
  eventsQueue,
  retryQueue,
  rpcQueue,
  serviceExchange,
} from './names.js';

export interface ServiceTopology {
  service: string;
  queueType: QueueType;
  /** Declare `<service>.rpc` (the service answers RPCs). */
  rpc: boolean;
  /** Routing keys `<service>.events` is bound to (the service consumes these events). */
  eventBindings: readonly string[];
  retryDelaysMs: readonly number[];
  /** Dead letters the DLQ keeps; a full DLQ refuses more (reject-publish), nothing is dropped. */
  deadLetterQueueMaxLength?: number;
}

/**
 * Declares the durable topology one service owns: its queues and its own exchange
 * (`<service>.dlx`), through which every move between them goes. Idempotent, so it runs on
 * every (re)connect; declaring a queue with different arguments fails with
 * PRECONDITION_FAILED, which is why delay queues are named by their delay. The shared `events`
 * exchange is not declared here: see `ensureExchange`.
 */
export async function declareServiceTopology(ch: Channel, t: ServiceTopology): Promise<void> {
  const typeArgs = queueTypeArguments(t.queueType);
  const moves = serviceExchange(t.service);
  await ch.assertExchange(moves, 'direct', { durable: true });
  const dlq = deadLetterQueue(t.service);
  await ch.assertQueue(dlq, {
    durable: true,
    arguments: {
      ...typeArgs,
      ...deadLetterQueueLimit(t.queueType),
      'x-max-length': t.deadLetterQueueMaxLength ?? Defaults.deadLetterQueueMaxLength,
      'x-overflow': 'reject-publish',
    },
  });
  await ch.bindQueue(dlq, moves, dlq);

  if (t.rpc) {
    // No dead-lettering here: an expired request is dropped on purpose (the caller gave up).
    await ch.assertQueue(rpcQueue(t.service), { durable: true, arguments: typeArgs });
  }

  if (t.eventBindings.length > 0) {
    const queue = eventsQueue(t.service);
    await ch.assertQueue(queue, {
      durable: true,
      arguments: {
        ...typeArgs,
        ...workQueueSafetyNet(t.queueType),
        // What the broker itself dead-letters (delivery limit, reject) lands in the DLQ too.
        'x-dead-letter-exchange': moves,
        'x-dead-letter-routing-key': dlq,
      },
    });
    for (const key of t.eventBindings) await ch.bindQueue(queue, EVENTS_EXCHANGE, key);
    // Retries come back, and DLQ replays arrive, through the service's own exchange.
    await ch.bindQueue(queue, moves, queue);
    for (const delayMs of t.retryDelaysMs) {
      const delayQueue = retryQueue(queue, delayMs);
      await ch.assertQueue(delayQueue, {
        durable: true,
        arguments: {
          ...typeArgs,
          ...delayQueueDeadLetterSafety(t.queueType),
          'x-message-ttl': delayMs,
          'x-dead-letter-exchange': moves,
          'x-dead-letter-routing-key': queue,
        },
      });
      await ch.bindQueue(delayQueue, moves, delayQueue);
    }
  }
}

/**
 * Declares an exchange only where it is missing. Where the broker's definitions declare it
 * (ops/rabbitmq/definitions.json declares `events`), a passive check needs no configure
 * permission, so services there cannot delete or re-declare it. A failed check closes its
 * channel, hence the throwaway channels.
 */
export async function ensureExchange(
  connection: ChannelModel,
  name: string,
  type: 'topic' | 'direct',
): Promise<void> {
  const probe = await connection.createChannel();
  probe.on('error', () => undefined); // the 404 below also rejects checkExchange
  try {
    await probe.checkExchange(name);
    await probe.close();
    return;
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
  }
  const ch = await connection.createChannel();
  ch.on('error', () => undefined);
  try {
    await ch.assertExchange(name, type, { durable: true });
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/** The queues `declareServiceTopology(ch, t)` declares, in the same order. */
export function serviceQueues(t: ServiceTopology): string[] {
  if (!t.rpc && t.eventBindings.length === 0) return [];
  const queues = [deadLetterQueue(t.service)];
  if (t.rpc) queues.push(rpcQueue(t.service));
  if (t.eventBindings.length > 0) {
    const queue = eventsQueue(t.service);
    queues.push(queue, ...t.retryDelaysMs.map((delayMs) => retryQueue(queue, delayMs)));
  }
  return queues;
}

function queueTypeArguments(type: QueueType): Record<string, unknown> {
  return { 'x-queue-type': type };
}

function workQueueSafetyNet(type: QueueType): Record<string, unknown> {
  return type === 'quorum' ? { 'x-delivery-limit': Defaults.quorumDeliveryLimit } : {};
}

/**
 * A quorum DLQ has nowhere to dead-letter to, and RabbitMQ 4 gives quorum queues a default
 * delivery limit of 20: inspecting a DLQ (get + requeue) would then drop its messages.
 */
function deadLetterQueueLimit(type: QueueType): Record<string, unknown> {
  return type === 'quorum' ? { 'x-delivery-limit': Defaults.quorumDeadLetterDeliveryLimit } : {};
}

/** Quorum queues can dead-letter at-least-once (https://www.rabbitmq.com/docs/quorum-queues#dead-lettering). */
function delayQueueDeadLetterSafety(type: QueueType): Record<string, unknown> {
  return type === 'quorum'
    ? { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' }
    : {};
}
