import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { ConsumeMessage, MessageFields, MessageProperties } from 'amqplib';
import {
  decodeJson,
  encodeJson,
  publishProperties,
  readMeta,
  replyProperties,
} from './properties.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function message(
  properties: Partial<MessageProperties> = {},
  fields: Partial<MessageFields> = {},
): ConsumeMessage {
  return {
    content: Buffer.from('{}'),
    fields: {
      deliveryTag: 1,
      redelivered: false,
      exchange: '',
      routingKey: 'order.events',
      consumerTag: 'ctag-1',
      ...fields,
    },
    properties: {
      contentType: undefined,
      contentEncoding: undefined,
      headers: {},
      deliveryMode: undefined,
      priority: undefined,
      correlationId: undefined,
      replyTo: undefined,
      expiration: undefined,
      messageId: undefined,
      timestamp: undefined,
      type: undefined,
      userId: undefined,
      appId: undefined,
      clusterId: undefined,
      ...properties,
    },
  };
}

const ORDER = { appId: 'order', userId: 'order-user' };

describe('publishProperties', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('marks the body as JSON and carries type, version and sender', () => {
    const p = publishProperties({ type: 'order.created', version: 2 }, ORDER);

    expect(p.contentType).toBe('application/json');
    expect(p.type).toBe('order.created');
    expect(p.headers).toEqual({ 'x-message-version': 2 });
    expect(p.appId).toBe('order');
    expect(p.userId).toBe('order-user');
  });

  it('gives every message a fresh uuid unless one is supplied', () => {
    const first = publishProperties({ type: 't', version: 1 }, ORDER);
    const second = publishProperties({ type: 't', version: 1 }, ORDER);
    const fixed = publishProperties({ type: 't', version: 1, messageId: 'outbox-42' }, ORDER);

    expect(first.messageId).toMatch(UUID);
    expect(second.messageId).toMatch(UUID);
    expect(first.messageId).not.toBe(second.messageId);
    expect(fixed.messageId).toBe('outbox-42');
  });

  it('stamps the time in whole seconds, as AMQP timestamps are', () => {
    jest.useFakeTimers({ now: 1_700_000_000_999 });

    expect(publishProperties({ type: 't', version: 1 }, ORDER).timestamp).toBe(1_700_000_000);
  });

  it('keeps caller headers next to the version, and the version wins', () => {
    const p = publishProperties(
      {
        type: 't',
        version: 3,
        correlationId: 'req-1',
        headers: { 'x-request-id': 'req-0', 'x-message-version': 99 },
      },
      ORDER,
    );

    expect(p.correlationId).toBe('req-1');
    expect(p.headers).toEqual({ 'x-request-id': 'req-0', 'x-message-version': 3 });
  });

  it('lets extra options such as persistence and reply-to through', () => {
    const p = publishProperties({ type: 't', version: 1 }, ORDER, {
      persistent: true,
      replyTo: 'amq.rabbitmq.reply-to',
      expiration: '5000',
    });

    expect(p).toMatchObject({
      persistent: true,
      replyTo: 'amq.rabbitmq.reply-to',
      expiration: '5000',
    });
  });
});

describe('readMeta', () => {
  it('reads back what publishProperties wrote', () => {
    const out = publishProperties(
      { type: 'order.created', version: 1, correlationId: 'corr-1' },
      ORDER,
      { replyTo: 'reply-q' },
    );

    const meta = readMeta(
      message(out as Partial<MessageProperties>, { exchange: 'events', routingKey: 'x' }),
    );

    expect(meta).toEqual({
      messageId: out.messageId,
      type: 'order.created',
      version: 1,
      correlationId: 'corr-1',
      requestId: 'corr-1',
      replyTo: 'reply-q',
      attempts: 0,
      headers: { 'x-message-version': 1 },
    });
  });

  it('takes the type from the routing key when an event arrives without one', () => {
    const meta = readMeta(message({}, { exchange: 'events', routingKey: 'order.created' }));

    expect(meta.type).toBe('order.created');
  });

  it('prefers the type property over the routing key', () => {
    const meta = readMeta(
      message({ type: 'order.confirmed' }, { exchange: 'events', routingKey: 'order.created' }),
    );

    expect(meta.type).toBe('order.confirmed');
  });

  it('does not guess a type from a queue name when the message came via the default exchange', () => {
    expect(readMeta(message({}, { exchange: '', routingKey: 'inventory.rpc' })).type).toBe(
      undefined,
    );
  });

  it('treats empty strings as absent', () => {
    const meta = readMeta(message({ messageId: '', type: '', correlationId: '', replyTo: '' }));

    expect(meta).toMatchObject({
      messageId: undefined,
      type: undefined,
      correlationId: undefined,
      requestId: undefined,
      replyTo: undefined,
    });
  });

  it.each([
    [{ 'x-attempts': 2 }, 2],
    [{ 'x-attempts': '3' }, 3],
    [{ 'x-attempts': 'many' }, 0],
    [{}, 0],
  ])('reads attempts from headers %j as %i', (headers, attempts) => {
    expect(readMeta(message({ headers })).attempts).toBe(attempts);
  });

  it('reads the version as a number, also when it arrives as a string', () => {
    expect(readMeta(message({ headers: { 'x-message-version': '2' } })).version).toBe(2);
    expect(readMeta(message({ headers: {} })).version).toBeUndefined();
  });

  it('copes with a message that has no headers at all', () => {
    const meta = readMeta(message({ headers: undefined }));

    expect(meta.headers).toEqual({});
    expect(meta.attempts).toBe(0);
  });

  it('uses x-request-id as the request id over the correlation id', () => {
    const meta = readMeta(
      message({ correlationId: 'call-7', headers: { 'x-request-id': 'req-1' } }),
    );

    expect(meta.requestId).toBe('req-1');
    expect(meta.correlationId).toBe('call-7');
  });

  it('falls back to the correlation id as the request id', () => {
    expect(readMeta(message({ correlationId: 'corr-1' })).requestId).toBe('corr-1');
  });
});

describe('JSON bodies', () => {
  it('round-trips a value', () => {
    const value = { orderId: 'o-1', items: [{ sku: 'MUG-1', quantity: 2 }] };

    expect(decodeJson(encodeJson(value))).toEqual({ ok: true, value });
  });

  it('encodes undefined as null so the body is still JSON', () => {
    expect(encodeJson(undefined).toString()).toBe('null');
  });

  it('rejects a body that is not JSON and says why', () => {
    const decoded = decodeJson(Buffer.from('<xml/>'));

    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.error).toMatch(/^body is not JSON: .+/);
  });

  it('rejects an empty body', () => {
    expect(decodeJson(Buffer.alloc(0)).ok).toBe(false);
  });
});

describe('replyProperties', () => {
  const sender = { appId: 'inventory', userId: 'inventory' };

  it('carries what a caller matches and decodes a reply by, and the broker-checked user', () => {
    expect(
      replyProperties(
        { type: 'inventory.reserve.reply', version: 1, correlationId: 'call-1' },
        sender,
      ),
    ).toEqual({
      contentType: 'application/json',
      type: 'inventory.reserve.reply',
      correlationId: 'call-1',
      userId: 'inventory',
      headers: { 'x-message-version': 1 },
    });
  });

  it('keeps trace headers next to the version', () => {
    const properties = replyProperties(
      { type: 't.reply', version: 2, correlationId: 'c', headers: { traceparent: '00-a-b-01' } },
      sender,
    );
    expect(properties.headers).toEqual({ traceparent: '00-a-b-01', 'x-message-version': 2 });
    expect(properties).not.toHaveProperty('messageId');
    expect(properties).not.toHaveProperty('timestamp');
    expect(properties).not.toHaveProperty('appId');
  });
});
