import type { MessageProperties, Options } from 'amqplib';
import { HeaderNames } from '@app/messaging';
import { BrokerHeaders } from './origin.js';

/**
 * What a failure added, dropped before a replay so the message starts over. The
 * `x-original-*` headers stay: if it fails again, it still knows where it came from.
 * The broker's `x-first-death-*`/`x-last-death-*` and `x-delivery-count` describe the same
 * history (and the DLQ's own redeliveries), so they go too.
 */
export const FAILURE_HEADERS: readonly string[] = [
  HeaderNames.deathReason,
  HeaderNames.errorMessage,
  HeaderNames.failedAt,
  HeaderNames.service,
  ...Object.values(BrokerHeaders),
];

/** How the original message arrived, as the consumer re-checks it on a copy. */
export interface Arrival {
  exchange?: string;
  routingKey?: string;
  userId?: string;
}

/** The dead letter's own properties, for its republication to the queue it failed in. */
export function replayProperties(p: MessageProperties, arrival: Arrival = {}): Options.Publish {
  const headers = Object.fromEntries(
    Object.entries(p.headers ?? {}).filter(([name]) => !FAILURE_HEADERS.includes(name)),
  );
  return {
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    deliveryMode: p.deliveryMode,
    priority: p.priority,
    correlationId: p.correlationId,
    replyTo: p.replyTo,
    messageId: p.messageId,
    timestamp: p.timestamp,
    type: p.type,
    appId: p.appId,
    // Not `userId`: the broker checks it against the user the tool connects as. Not
    // `expiration`: the broker already removed it when dead-lettering (a dead letter never
    // expires), and an expired request has no caller left waiting.
    headers: {
      ...headers,
      [HeaderNames.originalExchange]: arrival.exchange ?? headers[HeaderNames.originalExchange],
      [HeaderNames.originalRoutingKey]:
        arrival.routingKey ?? headers[HeaderNames.originalRoutingKey],
      [HeaderNames.originalUserId]: arrival.userId ?? headers[HeaderNames.originalUserId],
      [HeaderNames.attempts]: 0,
    },
  };
}
