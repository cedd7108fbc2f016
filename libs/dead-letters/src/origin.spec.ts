import { describe, expect, it } from '@jest/globals';
import { isoTime, latestDeath, resolveOrigin } from './origin.js';

const ts = (seconds: number) => ({ '!': 'timestamp', value: seconds });

/** What RabbitMQ writes when a consumer rejects a message from notification.events. */
const rejectedByBroker = {
  count: 1,
  reason: 'rejected',
  queue: 'notification.events',
  time: ts(1_700_000_000),
  exchange: 'events',
  'routing-keys': ['order.confirmed'],
};

/** What a trip through a delay queue leaves behind. */
const expiredFromRetryTier = {
  count: 1,
  reason: 'expired',
  queue: 'notification.events.retry.1s',
  time: ts(1_700_000_100),
  exchange: '',
  'routing-keys': ['notification.events.retry.1s'],
};

describe('resolveOrigin', () => {
  it('takes the original queue, exchange and routing key from our headers', () => {
    expect(
      resolveOrigin({
        'x-original-queue': 'notification.events',
        'x-original-exchange': 'events',
        'x-original-routing-key': 'order.confirmed',
      }),
    ).toEqual({ queue: 'notification.events', exchange: 'events', routingKey: 'order.confirmed' });
  });

  it('keeps the default exchange as the empty string it is', () => {
    expect(
      resolveOrigin({ 'x-original-queue': 'inventory.rpc', 'x-original-exchange': '' })?.exchange,
    ).toBe('');
  });

  it('falls back to the newest x-death entry of a message the broker dead-lettered', () => {
    expect(resolveOrigin({ 'x-death': [rejectedByBroker] })).toEqual({
      queue: 'notification.events',
      exchange: 'events',
      routingKey: 'order.confirmed',
    });
  });

  it('prefers our headers over the x-death entry a retry tier left', () => {
    const origin = resolveOrigin({
      'x-original-queue': 'notification.events',
      'x-death': [expiredFromRetryTier],
    });

    expect(origin?.queue).toBe('notification.events');
  });

  it('knows no origin when neither header is there', () => {
    expect(resolveOrigin({})).toBeUndefined();
    expect(resolveOrigin({ 'x-death': [] })).toBeUndefined();
    expect(resolveOrigin({ 'x-original-queue': '' })).toBeUndefined();
  });
});

describe('latestDeath', () => {
  it('reads the first entry, with its time as ISO-8601', () => {
    expect(latestDeath({ 'x-death': [rejectedByBroker, expiredFromRetryTier] })).toEqual({
      queue: 'notification.events',
      exchange: 'events',
      routingKeys: ['order.confirmed'],
      reason: 'rejected',
      time: '2023-11-14T22:13:20.000Z',
    });
  });

  it('ignores an x-death header that is not an array of tables', () => {
    expect(latestDeath({ 'x-death': 'rejected' })).toBeUndefined();
    expect(latestDeath({ 'x-death': [null] })).toBeUndefined();
  });
});

describe('isoTime', () => {
  it('reads amqplib timestamps and plain seconds', () => {
    expect(isoTime(ts(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(isoTime(1)).toBe('1970-01-01T00:00:01.000Z');
    expect(isoTime('yesterday')).toBeUndefined();
  });
});
