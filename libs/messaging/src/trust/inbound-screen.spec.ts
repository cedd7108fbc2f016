import { describe, expect, it } from '@jest/globals';
import type { MessageHandler } from '@nestjs/microservices';
import type { ConsumeMessage } from 'amqplib';
import { z } from 'zod';
import { defineEvent, defineRpc } from '@app/contracts';
import { readMeta } from '../wire/properties.js';
import { InboundScreen } from './inbound-screen.js';

const OrderConfirmed = defineEvent('order.confirmed', {
  version: 1,
  owner: 'order',
  description: 'test',
  payload: z.object({}),
});
const Reserve = defineRpc('inventory.reserve', {
  version: 1,
  owner: 'inventory',
  callers: ['order'],
  description: 'test',
  request: z.object({}),
  response: z.object({}),
});

function handler(contract: object | undefined, isEventHandler: boolean): MessageHandler {
  const h = (async () => undefined) as unknown as MessageHandler;
  h.isEventHandler = isEventHandler;
  h.extras = contract ? { contract } : {};
  return h;
}

const handlers = new Map<string, MessageHandler>([
  ['order.confirmed', handler(OrderConfirmed, true)],
  ['inventory.stock-low', handler(undefined, true)],
  ['inventory.reserve', handler(Reserve, false)],
]);

const users = {
  order: 'order-svc',
  inventory: 'inventory-svc',
  notification: 'notification-svc',
  'notification-dlq': 'notification-dlq-svc',
};

function screen(brokerUsers: Record<string, string> = users, self = 'notification') {
  return new InboundScreen(
    {
      service: self,
      brokerUser: brokerUsers[self] ?? 'guest',
      brokerUsers,
      maxMessageBytes: 100,
    },
    handlers,
  );
}

function delivery(
  type: string,
  userId: string | undefined,
  exchange = 'events',
  routingKey = type,
  body = '{}',
): ConsumeMessage {
  return {
    content: Buffer.from(body),
    fields: { deliveryTag: 1, redelivered: false, exchange, routingKey, consumerTag: 'c' },
    properties: { type, userId, headers: {} },
  } as unknown as ConsumeMessage;
}

const event = (s: InboundScreen, msg: ConsumeMessage) => s.event(msg, readMeta(msg));
const request = (s: InboundScreen, msg: ConsumeMessage) => s.request(msg, readMeta(msg));

describe('InboundScreen', () => {
  it("accepts an event from its owner's user, on events, routed by its type", () => {
    expect(event(screen(), delivery('order.confirmed', 'order-svc'))).toBeUndefined();
  });

  it.each([
    ['another service', 'inventory-svc'],
    ['no user_id at all', undefined],
    ['the consuming service itself', 'notification-svc'],
  ])('refuses an event from %s as untrusted-publisher', (_, userId) => {
    expect(event(screen(), delivery('order.confirmed', userId))).toMatchObject({
      reason: 'untrusted-publisher',
    });
  });

  it('refuses an event whose type is not its routing key as invalid', () => {
    const msg = delivery('order.confirmed', 'order-svc', 'events', 'inventory.stock-low');
    expect(event(screen(), msg)).toMatchObject({ reason: 'invalid' });
  });

  it('refuses an event dropped straight into the queue through the default exchange', () => {
    const msg = delivery('order.confirmed', 'order-svc', '', 'notification.events');
    expect(event(screen(), msg)).toMatchObject({ reason: 'invalid' });
  });

  it("accepts a copy on the service's own exchange from itself or its DLQ tool only", () => {
    const copy = (userId: string) =>
      withOrigin(delivery('order.confirmed', userId, 'notification.dlx', 'notification.events'), {
        exchange: 'events',
        routingKey: 'order.confirmed',
        userId: 'order-svc',
      });
    expect(event(screen(), copy('notification-svc'))).toBeUndefined();
    expect(event(screen(), copy('notification-dlq-svc'))).toBeUndefined();
    expect(event(screen(), copy('order-svc'))).toMatchObject({ reason: 'untrusted-publisher' });
  });

  it('judges a copy by how its original arrived: a replay cannot launder a forgery', () => {
    const replay = (origin: { exchange: string; routingKey: string; userId: string }) =>
      withOrigin(
        delivery(
          'order.confirmed',
          'notification-dlq-svc',
          'notification.dlx',
          'notification.events',
        ),
        origin,
      );
    expect(
      event(
        screen(),
        replay({ exchange: 'events', routingKey: 'order.confirmed', userId: 'inventory-svc' }),
      ),
    ).toMatchObject({ reason: 'untrusted-publisher' });
    expect(
      event(
        screen(),
        replay({ exchange: '', routingKey: 'notification.events', userId: 'order-svc' }),
      ),
    ).toMatchObject({ reason: 'invalid' });
    const bare = delivery('order.confirmed', 'notification-svc', 'notification.dlx', 'x');
    expect(event(screen(), bare)).toMatchObject({ reason: 'invalid' });
  });

  it('takes the owner of an event without a contract from its name', () => {
    expect(event(screen(), delivery('inventory.stock-low', 'inventory-svc'))).toBeUndefined();
    expect(event(screen(), delivery('inventory.stock-low', 'order-svc'))).toMatchObject({
      reason: 'untrusted-publisher',
    });
  });

  it('accepts an RPC request only from a caller its contract names', () => {
    const inventory = screen(users, 'inventory');
    expect(request(inventory, delivery('inventory.reserve', 'order-svc', ''))).toBeUndefined();
    for (const userId of ['notification-svc', 'inventory-svc', undefined]) {
      expect(request(inventory, delivery('inventory.reserve', userId, ''))).toMatchObject({
        reason: 'untrusted-publisher',
      });
    }
  });

  it('compares with the one shared user when no broker users are configured', () => {
    const shared = new InboundScreen(
      { service: 'notification', brokerUser: 'guest', brokerUsers: {}, maxMessageBytes: 100 },
      handlers,
    );
    expect(event(shared, delivery('order.confirmed', 'guest'))).toBeUndefined();
    expect(event(shared, delivery('order.confirmed', 'mallory'))).toMatchObject({
      reason: 'untrusted-publisher',
    });
  });

  it('refuses a body above the limit as too-large, and takes one at the limit', () => {
    expect(
      screen().size(delivery('order.confirmed', 'order-svc', 'events', 'x', 'x'.repeat(100))),
    ).toBeUndefined();
    expect(
      screen().size(delivery('order.confirmed', 'order-svc', 'events', 'x', 'x'.repeat(101))),
    ).toMatchObject({ reason: 'too-large' });
  });
});

function withOrigin(
  msg: ConsumeMessage,
  origin: { exchange: string; routingKey: string; userId: string },
): ConsumeMessage {
  msg.properties.headers = {
    'x-original-exchange': origin.exchange,
    'x-original-routing-key': origin.routingKey,
    'x-original-user-id': origin.userId,
  };
  return msg;
}
