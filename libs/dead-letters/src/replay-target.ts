import type { GetMessage } from 'amqplib';
import { eventsQueue, HeaderNames, serviceExchange } from '@app/messaging';
import { resolveOrigin } from './origin.js';
import type { Arrival } from './replay-properties.js';
import { headersOf } from './summary.js';

/**
 * Where a replay sends a dead letter, or why it cannot. Any publisher can set
 * `x-original-queue`, so it only chooses among the service's own queues: its events queue,
 * the one queue its exchange routes replays to (an RPC request's caller is long gone).
 */
export function replayTarget(
  msg: GetMessage,
  dlq: string,
): { exchange: string; to: string; arrival: Arrival } | { why: string } {
  const origin = resolveOrigin(headersOf(msg));
  if (!origin) return { why: 'no x-original-queue or x-death header: its queue is unknown' };
  if (origin.queue === dlq) return { why: 'its original queue is this dead-letter queue' };
  const service = dlq.slice(0, -'.dlq'.length);
  if (origin.queue !== eventsQueue(service)) {
    return {
      why: `it names ${origin.queue}, not ${eventsQueue(service)}: replays stay in ${service}`,
    };
  }
  // What the consumer judges the copy by: the service's own record, or the broker's (x-death,
  // and the user_id it kept) for what the broker dead-lettered by itself.
  const arrival: Arrival = {
    exchange: origin.exchange,
    routingKey: origin.routingKey,
    userId:
      (headersOf(msg)[HeaderNames.originalUserId] as string | undefined) ?? msg.properties.userId,
  };
  return { exchange: serviceExchange(service), to: origin.queue, arrival };
}
