import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { ConsumeMessage, MessageProperties } from 'amqplib';
import { deadLetteredCopy } from '@app/messaging/testing';
import { FAILURE_HEADERS, replayProperties } from './replay-properties.js';

const properties: MessageProperties = {
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  headers: { 'x-message-version': 1 },
  deliveryMode: 2,
  priority: undefined,
  correlationId: 'req-1',
  replyTo: undefined,
  expiration: undefined,
  messageId: 'm-1',
  timestamp: 1_700_000_000,
  type: 'order.confirmed',
  userId: 'order-service',
  appId: 'order',
  clusterId: undefined,
};

/** Dead-letters a delivery with the real FailureHandler and returns the copy as the DLQ holds it. */
function deadLettered(): Promise<MessageProperties> {
  const delivery: ConsumeMessage = {
    content: Buffer.from('{}'),
    fields: {
      deliveryTag: 1,
      redelivered: false,
      exchange: 'events',
      routingKey: 'order.confirmed',
      consumerTag: 'c',
    },
    properties,
  };
  return deadLetteredCopy(
    delivery,
    { service: 'notification', queue: 'notification.events' },
    new Error('smtp down'),
  );
}

describe('replayProperties', () => {
  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterAll(() => {
    jest.restoreAllMocks();
  });

  it('removes what the failure added and starts the attempts over', async () => {
    const dead = await deadLettered();
    expect(dead.headers).toMatchObject({ 'x-death-reason': 'retries-exhausted' });

    expect(replayProperties(dead).headers).toEqual({
      'x-message-version': 1,
      'x-attempts': 0,
      'x-original-queue': 'notification.events',
      'x-original-exchange': 'events',
      'x-original-routing-key': 'order.confirmed',
      'x-original-user-id': 'order-service',
    });
  });

  it('removes the history the broker wrote when it dead-lettered the message', () => {
    const headers = replayProperties({
      ...properties,
      headers: {
        'x-message-version': 1,
        'x-death': [
          {
            count: 1,
            reason: 'rejected',
            queue: 'notification.events',
            time: { '!': 'timestamp', value: 1_700_000_000 },
            exchange: 'events',
            'routing-keys': ['order.confirmed'],
          },
        ],
        'x-first-death-queue': 'notification.events',
        'x-first-death-reason': 'rejected',
        'x-first-death-exchange': 'events',
        'x-delivery-count': 3,
      },
    }).headers;

    expect(headers).toEqual({ 'x-message-version': 1, 'x-attempts': 0 });
  });

  it('lists every header our failure handler adds except the origin', () => {
    expect(FAILURE_HEADERS).toEqual(
      expect.arrayContaining(['x-death-reason', 'x-error-message', 'x-failed-at', 'x-service']),
    );
    expect(FAILURE_HEADERS).not.toContain('x-original-queue');
  });

  it('keeps the message identity and format', async () => {
    expect(replayProperties(await deadLettered())).toMatchObject({
      messageId: 'm-1',
      type: 'order.confirmed',
      correlationId: 'req-1',
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      timestamp: 1_700_000_000,
      appId: 'order',
      deliveryMode: 2,
    });
  });

  it('drops user_id and expiration, which the broker would check or act on again', () => {
    const replay = replayProperties({ ...properties, expiration: '5000' });

    expect(replay.userId).toBeUndefined();
    expect(replay.expiration).toBeUndefined();
  });

  it('does not change the dead letter it reads', () => {
    const headers = { 'x-death-reason': 'invalid', 'x-attempts': 0 };
    replayProperties({ ...properties, headers });

    expect(headers).toEqual({ 'x-death-reason': 'invalid', 'x-attempts': 0 });
  });
});
