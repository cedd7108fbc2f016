import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { ConfirmChannel, ConsumeMessage, MessageProperties, Options } from 'amqplib';
import { ContractViolationError, PermanentError } from '../errors.js';
import { readMeta } from '../wire/properties.js';
import { FailureHandler } from './failure-handler.js';

const SERVICE = 'notification';
const SENDER = { appId: SERVICE, userId: 'notification-user' };
const WORK_QUEUE = 'notification.events';
const DELAYS = [1_000, 10_000, 60_000];

interface Publish {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

type Confirm = (err: Error | null) => void;

/**
 * A consumer's channel at the seam FailureHandler uses: `publish` records the copy and answers
 * through the confirm callback (an ack, a nack, or held until the test releases it); `ack`
 * and `requeue` record how the original was settled.
 */
function fakeChannel(mode: 'ack' | 'nack' | 'hold' = 'ack') {
  const published: Publish[] = [];
  const held: Confirm[] = [];
  const ack = jest.fn<(msg: ConsumeMessage) => void>();
  const requeue = jest.fn<(msg: ConsumeMessage) => void>();
  const channel = {
    publish(
      exchange: string,
      routingKey: string,
      content: Buffer,
      options: Options.Publish,
      cb: Confirm,
    ): boolean {
      published.push({ exchange, routingKey, content, options });
      if (mode === 'hold') held.push(cb);
      else cb(mode === 'ack' ? null : new Error('nack'));
      return true;
    },
  };
  return { channel: channel as unknown as ConfirmChannel, published, held, ack, requeue };
}

function delivery(
  properties: Partial<MessageProperties> = {},
  fields: Partial<ConsumeMessage['fields']> = {},
): ConsumeMessage {
  return {
    content: Buffer.from(JSON.stringify({ orderId: 'o-1' })),
    fields: {
      routingKey: 'order.confirmed',
      exchange: 'events',
      deliveryTag: 7,
      redelivered: false,
      consumerTag: 'ctag-1',
      ...fields,
    },
    properties: {
      contentType: 'application/json',
      contentEncoding: undefined,
      headers: { 'x-message-version': 1, 'x-request-id': 'req-1' },
      deliveryMode: 2,
      priority: undefined,
      correlationId: 'corr-1',
      replyTo: undefined,
      expiration: undefined,
      messageId: 'msg-1',
      timestamp: 1_700_000_000,
      type: 'order.confirmed',
      userId: 'order-service',
      appId: 'order',
      clusterId: undefined,
      ...properties,
    },
  };
}

/** The same message as the broker hands it back from a retry queue (via the service's exchange). */
function redelivered(copy: Publish): ConsumeMessage {
  return delivery(copy.options as Partial<MessageProperties>, {
    exchange: 'notification.dlx',
    routingKey: WORK_QUEUE,
    redelivered: false,
  });
}

// No pause before a requeue, except in the test of that pause.
const handler = () => new FailureHandler(SENDER, WORK_QUEUE, { immediate: 2, delaysMs: DELAYS }, 0);

describe('FailureHandler', () => {
  beforeAll(() => {
    // Every path logs by design; keep the test output for test failures.
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterAll(() => {
    jest.restoreAllMocks();
  });

  describe('a transient failure', () => {
    let ch: ReturnType<typeof fakeChannel>;
    beforeEach(() => {
      ch = fakeChannel();
    });

    it('retries an event from a publisher that set no type as that event', async () => {
      const msg = delivery({ type: undefined }); // routed by name on the events exchange
      expect(readMeta(msg).type).toBe('order.confirmed');

      await handler().handlerFailed(ch, msg, readMeta(msg), new Error('smtp down'));

      expect(readMeta(redelivered(ch.published[0]!)).type).toBe('order.confirmed');
    });

    it("moves a first failure to the first retry tier through the service's exchange", async () => {
      const msg = delivery();

      await handler().handlerFailed(ch, msg, readMeta(msg), new Error('smtp down'));

      expect(ch.published).toHaveLength(1);
      const [copy] = ch.published;
      expect(copy.exchange).toBe('notification.dlx');
      expect(copy.routingKey).toBe('notification.events.retry.1s');
      expect(copy.content).toBe(msg.content);
    });

    it('counts the attempt and records the error and where the message came from', async () => {
      const msg = delivery();

      await handler().handlerFailed(ch, msg, readMeta(msg), new Error('smtp down'));

      expect(ch.published[0].options.headers).toEqual({
        'x-message-version': 1,
        'x-request-id': 'req-1',
        'x-attempts': 1,
        'x-error-message': 'smtp down',
        'x-original-queue': WORK_QUEUE,
        'x-original-exchange': 'events',
        'x-original-routing-key': 'order.confirmed',
        'x-original-user-id': 'order-service',
      });
    });

    it('keeps the message’s identity on the retry copy and makes it persistent', async () => {
      const msg = delivery();

      await handler().handlerFailed(ch, msg, readMeta(msg), new Error('smtp down'));

      expect(ch.published[0].options).toMatchObject({
        messageId: 'msg-1',
        type: 'order.confirmed',
        correlationId: 'corr-1',
        contentType: 'application/json',
        timestamp: 1_700_000_000,
        appId: 'order',
        persistent: true,
      });
    });

    it("publishes the copy as the service's own user, the only user_id the broker accepts", async () => {
      const msg = delivery();

      await handler().handlerFailed(ch, msg, readMeta(msg), new Error('smtp down'));

      expect(ch.published[0].options.userId).toBe('notification-user');
    });

    it('acks the original only after the broker confirmed the copy', async () => {
      const held = fakeChannel('hold');
      const msg = delivery();

      const moving = handler().handlerFailed(held, msg, readMeta(msg), new Error('x'));
      await Promise.resolve();
      expect(held.published).toHaveLength(1);
      expect(held.ack).not.toHaveBeenCalled();

      held.held[0](null);
      await moving;

      expect(held.ack).toHaveBeenCalledTimes(1);
      expect(held.ack).toHaveBeenCalledWith(msg);
      expect(held.requeue).not.toHaveBeenCalled();
    });

    it('sends each further failure to the next tier, then to the dead-letter queue', async () => {
      const failures = handler();
      let msg = delivery();
      const route: string[] = [];

      for (let round = 0; round < DELAYS.length + 1; round++) {
        const step = fakeChannel();
        await failures.handlerFailed(step, msg, readMeta(msg), new Error(`fail ${round}`));
        route.push(step.published[0].routingKey);
        msg = redelivered(step.published[0]);
      }

      expect(route).toEqual([
        'notification.events.retry.1s',
        'notification.events.retry.10s',
        'notification.events.retry.1m',
        'notification.dlq',
      ]);
    });

    it('keeps the original queue and routing key across retry hops', async () => {
      const first = delivery();
      await handler().handlerFailed(ch, first, readMeta(first), new Error('a'));
      const second = redelivered(ch.published[0]);
      const next = fakeChannel();

      await handler().handlerFailed(next, second, readMeta(second), new Error('b'));

      expect(next.published[0].routingKey).toBe('notification.events.retry.10s');
      expect(next.published[0].options.headers).toMatchObject({
        'x-attempts': 2,
        'x-error-message': 'b',
        'x-original-queue': WORK_QUEUE,
        'x-original-exchange': 'events',
        'x-original-routing-key': 'order.confirmed',
      });
    });

    it('dead-letters with reason retries-exhausted after the last tier', async () => {
      const msg = delivery({
        headers: {
          'x-message-version': 1,
          'x-attempts': DELAYS.length,
          'x-original-queue': WORK_QUEUE,
          'x-original-exchange': 'events',
          'x-original-routing-key': 'order.confirmed',
        },
      });
      const before = Date.now();

      await handler().handlerFailed(ch, msg, readMeta(msg), new Error('still down'));

      const [copy] = ch.published;
      expect(copy.exchange).toBe('notification.dlx');
      expect(copy.routingKey).toBe('notification.dlq');
      expect(copy.options.headers).toMatchObject({
        'x-death-reason': 'retries-exhausted',
        'x-error-message': 'still down',
        'x-attempts': DELAYS.length + 1,
        'x-original-queue': WORK_QUEUE,
        'x-original-routing-key': 'order.confirmed',
        'x-service': SERVICE,
      });
      const failedAt = Date.parse(String(copy.options.headers?.['x-failed-at']));
      expect(failedAt).toBeGreaterThanOrEqual(before);
      expect(failedAt).toBeLessThanOrEqual(Date.now());
      expect(ch.ack).toHaveBeenCalledWith(msg);
    });

    it('dead-letters at once when no retry tiers are configured', async () => {
      const msg = delivery();
      const noTiers = new FailureHandler(SENDER, WORK_QUEUE, { immediate: 0, delaysMs: [] }, 0);

      await noTiers.handlerFailed(ch, msg, readMeta(msg), new Error('x'));

      expect(ch.published[0].routingKey).toBe('notification.dlq');
      expect(ch.published[0].options.headers).toMatchObject({
        'x-death-reason': 'retries-exhausted',
        'x-original-queue': WORK_QUEUE,
      });
    });

    it('keeps long error messages to a bounded size', async () => {
      const msg = delivery();

      await handler().handlerFailed(ch, msg, readMeta(msg), new Error('e'.repeat(5_000)));

      const text = String(ch.published[0].options.headers?.['x-error-message']);
      expect(text.length).toBeLessThanOrEqual(1_001);
      expect(text.startsWith('eeee')).toBe(true);
    });

    it('records errors that are not Error instances', async () => {
      const msg = delivery();

      await handler().handlerFailed(ch, msg, readMeta(msg), 'timeout talking to smtp');

      expect(ch.published[0].options.headers?.['x-error-message']).toBe('timeout talking to smtp');
    });
  });

  describe('a permanent failure', () => {
    it('goes straight to the dead-letter queue with reason rejected', async () => {
      const ch = fakeChannel();
      const msg = delivery();

      await handler().handlerFailed(ch, msg, readMeta(msg), new PermanentError('no such customer'));

      expect(ch.published).toHaveLength(1);
      expect(ch.published[0].routingKey).toBe('notification.dlq');
      expect(ch.published[0].options.headers).toMatchObject({
        'x-death-reason': 'rejected',
        'x-error-message': 'no such customer',
        'x-attempts': 1,
        'x-original-queue': WORK_QUEUE,
        'x-original-exchange': 'events',
        'x-original-routing-key': 'order.confirmed',
        'x-service': SERVICE,
      });
      expect(ch.ack).toHaveBeenCalledWith(msg);
    });

    it('treats a contract violation as permanent, even on a first delivery', async () => {
      const ch = fakeChannel();
      const msg = delivery();
      const error = new ContractViolationError('order.confirmed', [
        { path: 'orderId', message: 'Invalid UUID' },
      ]);

      await handler().handlerFailed(ch, msg, readMeta(msg), error);

      expect(ch.published[0].routingKey).toBe('notification.dlq');
      expect(ch.published[0].options.headers?.['x-death-reason']).toBe('rejected');
    });
  });

  describe('deadLetter', () => {
    it('keeps the body and the message properties', async () => {
      const ch = fakeChannel();
      const msg = delivery({ contentEncoding: 'utf-8' });

      await handler().deadLetter(ch, msg, readMeta(msg), 'malformed', 'body is not JSON');

      const [copy] = ch.published;
      expect(copy.content.equals(msg.content)).toBe(true);
      expect(copy.options).toMatchObject({
        messageId: 'msg-1',
        type: 'order.confirmed',
        correlationId: 'corr-1',
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        persistent: true,
      });
      expect(copy.options.headers).toMatchObject({
        'x-message-version': 1,
        'x-request-id': 'req-1',
        'x-death-reason': 'malformed',
        'x-error-message': 'body is not JSON',
      });
    });

    it('does not count a delivery the handler never saw as an attempt', async () => {
      const ch = fakeChannel();
      const msg = delivery();

      await handler().deadLetter(ch, msg, readMeta(msg), 'invalid', new Error('bad'));

      expect(ch.published[0].options.headers?.['x-attempts']).toBe(0);
    });
  });

  describe('when the broker does not confirm the copy', () => {
    it('requeues the original and does not ack it', async () => {
      const ch = fakeChannel('nack');
      const msg = delivery();

      await handler().handlerFailed(ch, msg, readMeta(msg), new Error('smtp down'));

      expect(ch.ack).not.toHaveBeenCalled();
      expect(ch.requeue).toHaveBeenCalledTimes(1);
      expect(ch.requeue).toHaveBeenCalledWith(msg);
    });

    it('also requeues a message bound for the dead-letter queue', async () => {
      const ch = fakeChannel('nack');
      const msg = delivery();

      await handler().deadLetter(ch, msg, readMeta(msg), 'rejected', new Error('x'));

      expect(ch.ack).not.toHaveBeenCalled();
      expect(ch.requeue).toHaveBeenCalledWith(msg);
    });

    it('waits before requeueing a copy the broker refused (a full DLQ), so it does not spin', async () => {
      jest.useFakeTimers();
      try {
        const ch = fakeChannel('nack');
        const msg = delivery();
        const slow = new FailureHandler(SENDER, WORK_QUEUE, { immediate: 0, delaysMs: [] }, 1_000);

        const moving = slow.deadLetter(ch, msg, readMeta(msg), 'rejected', new Error('x'));
        await jest.advanceTimersByTimeAsync(999);
        expect(ch.requeue).not.toHaveBeenCalled();
        await jest.advanceTimersByTimeAsync(1);

        await expect(moving).resolves.toBe('abandoned');
        expect(ch.requeue).toHaveBeenCalledWith(msg);
      } finally {
        jest.useRealTimers();
      }
    });

    it('does not throw when the channel is already closed', async () => {
      const ch = fakeChannel('nack');
      ch.requeue.mockImplementation(() => {
        throw new Error('Channel closed');
      });
      const msg = delivery();

      await expect(handler().handlerFailed(ch, msg, readMeta(msg), new Error('x'))).resolves.toBe(
        'abandoned',
      );
      expect(ch.ack).not.toHaveBeenCalled();
    });
  });
});
