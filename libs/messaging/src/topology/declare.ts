import type { Channel } from 'amqplib';
import { Defaults } from '../constants.js';
import type { QueueType } from '../messaging.options.js';
import { deadLetterQueue, EVENTS_EXCHANGE, eventsQueue, retryQueue, rpcQueue } from './names.js';

export interface ServiceTopology {
  service: string;
  queueType: QueueType;
  /** Declare `<service>.rpc` (the service answers RPCs). */
  rpc: boolean;
  /** Routing keys `<service>.events` is bound to (the service consumes these events). */
  eventBindings: readonly string[];
  retryDelaysMs: readonly number[];
}

/**
 * Declares the durable topology one service owns. Idempotent, so it runs on every
 * (re)connect; declaring a queue with different arguments fails with PRECONDITION_FAILED,
 * which is why delay queues are named by their delay.
 */
export async function declareServiceTopology(ch: Channel, t: ServiceTopology): Promise<void> {
  const typeArgs = queueTypeArguments(t.queueType);
  await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
  await ch.assertQueue(deadLetterQueue(t.service), {
    durable: true,
    arguments: { ...typeArgs, ...deadLetterQueueLimit(t.queueType) },
  });

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
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': deadLetterQueue(t.service),
      },
    });
    for (const key of t.eventBindings) await ch.bindQueue(queue, EVENTS_EXCHANGE, key);
    for (const delayMs of t.retryDelaysMs) {
      await ch.assertQueue(retryQueue(queue, delayMs), {
        durable: true,
        arguments: {
          ...typeArgs,
          ...delayQueueDeadLetterSafety(t.queueType),
          'x-message-ttl': delayMs,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queue,
        },
      });
    }
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
