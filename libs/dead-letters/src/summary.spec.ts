import { describe, expect, it } from '@jest/globals';
import type { Message, MessageProperties } from 'amqplib';
import { decodeBody, describeDeadLetter, summarize } from './summary.js';

/** Headers as they arrive; amqplib's `XDeath` type knows fewer reasons than RabbitMQ sends. */
type Delivered = Partial<Omit<MessageProperties, 'headers'>> & {
  headers?: Record<string, unknown>;
};

function message(properties: Delivered, body = '{"orderId":"o-1"}'): Message {
  return {
    content: Buffer.from(body),
    fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'notification.dlq' },
    properties: {
      contentType: 'application/json',
      contentEncoding: undefined,
      headers: {},
      deliveryMode: 2,
      priority: undefined,
      correlationId: 'req-1',
      replyTo: undefined,
      expiration: undefined,
      messageId: 'm-1',
      timestamp: 1_700_000_000,
      type: 'order.confirmed',
      userId: undefined,
      appId: 'order',
      clusterId: undefined,
      ...(properties as Partial<MessageProperties>),
    },
  };
}

/** The headers FailureHandler writes on a dead letter. */
const ours = {
  'x-message-version': 1,
  'x-death-reason': 'retries-exhausted',
  'x-error-message': 'connect ECONNREFUSED 127.0.0.1:1025',
  'x-attempts': 4,
  'x-original-queue': 'notification.events',
  'x-original-exchange': 'events',
  'x-original-routing-key': 'order.confirmed',
  'x-failed-at': '2025-03-01T10:00:00.000Z',
  'x-service': 'notification',
};

const brokerDeath = {
  count: 1,
  reason: 'delivery_limit',
  queue: 'notification.events',
  time: { '!': 'timestamp', value: 1_700_000_000 },
  exchange: 'events',
  'routing-keys': ['order.confirmed'],
};

describe('summarize', () => {
  it('reads what our failure handler recorded', () => {
    expect(summarize(message({ headers: ours }))).toEqual({
      messageId: 'm-1',
      type: 'order.confirmed',
      reason: 'retries-exhausted',
      error: 'connect ECONNREFUSED 127.0.0.1:1025',
      attempts: 4,
      originalQueue: 'notification.events',
      failedAt: '2025-03-01T10:00:00.000Z',
      service: 'notification',
      correlationId: 'req-1',
      size: 17,
      deadLetteredBy: 'service',
    });
  });

  it('keeps our reason over the x-death entry a retry tier left on the message', () => {
    const expired = { ...brokerDeath, reason: 'expired', queue: 'notification.events.retry.1m' };
    const summary = summarize(message({ headers: { ...ours, 'x-death': [expired] } }));

    expect(summary).toMatchObject({
      reason: 'retries-exhausted',
      originalQueue: 'notification.events',
      failedAt: '2025-03-01T10:00:00.000Z',
      deadLetteredBy: 'service',
    });
  });

  it('reads a message the broker dead-lettered from its x-death header', () => {
    expect(summarize(message({ headers: { 'x-death': [brokerDeath] } }))).toMatchObject({
      reason: 'delivery_limit',
      originalQueue: 'notification.events',
      failedAt: '2023-11-14T22:13:20.000Z',
      attempts: undefined,
      service: undefined,
      deadLetteredBy: 'broker',
    });
  });

  it('names an untyped event by the routing key it was published with', () => {
    const summary = summarize(message({ type: undefined, headers: { 'x-death': [brokerDeath] } }));

    expect(summary.type).toBe('order.confirmed');
  });

  it('reports what it cannot know as unknown', () => {
    expect(summarize(message({ headers: undefined, messageId: undefined }))).toMatchObject({
      messageId: undefined,
      reason: undefined,
      originalQueue: undefined,
      deadLetteredBy: 'unknown',
    });
  });
});

describe('describeDeadLetter', () => {
  it('gives the properties that are set, the headers and the decoded body', () => {
    const full = describeDeadLetter(message({ headers: { ...ours, 'x-death': [brokerDeath] } }));

    expect(full.properties).toEqual({
      contentType: 'application/json',
      deliveryMode: 2,
      correlationId: 'req-1',
      messageId: 'm-1',
      timestamp: 1_700_000_000,
      type: 'order.confirmed',
      appId: 'order',
    });
    expect(full.headers['x-death']).toEqual([{ ...brokerDeath, time: '2023-11-14T22:13:20.000Z' }]);
    expect(full.origin).toEqual({
      queue: 'notification.events',
      exchange: 'events',
      routingKey: 'order.confirmed',
    });
    expect(full).toMatchObject({ body: { orderId: 'o-1' }, bodyFormat: 'json' });
  });
});

describe('decodeBody', () => {
  it('parses JSON, keeps other text as text and shows binary as base64', () => {
    expect(decodeBody(Buffer.from('[1,2]'))).toEqual({ body: [1, 2], bodyFormat: 'json' });
    expect(decodeBody(Buffer.from('{not json'))).toEqual({ body: '{not json', bodyFormat: 'text' });
    expect(decodeBody(Buffer.from([0xff, 0xfe, 0x00]))).toEqual({
      body: '//4A',
      bodyFormat: 'base64',
    });
  });
});
