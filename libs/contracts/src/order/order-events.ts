import { z } from 'zod';
import { Email, Instant, OrderId, OrderItems, RejectionReason, Skus } from '../common.js';
import { defineEvent } from '../define.js';

const OrderFacts = {
  orderId: OrderId,
  customerEmail: Email,
  items: OrderItems,
  occurredAt: Instant,
};

const factsExample = {
  orderId: '3e9a1c55-7b2d-4c1e-9f0a-2b3c4d5e6f70',
  customerEmail: 'ada@example.com',
  items: [{ sku: 'LAPTOP-STAND', quantity: 2 }],
  occurredAt: '2030-01-02T03:04:05.000Z',
};

export const OrderCreated = defineEvent('order.created', {
  version: 1,
  owner: 'order',
  description: 'An order was accepted and is PENDING its stock reservation.',
  payload: z.object(OrderFacts),
  example: factsExample,
});

export const OrderConfirmed = defineEvent('order.confirmed', {
  version: 1,
  owner: 'order',
  description: 'Stock was reserved; the order is CONFIRMED.',
  payload: z.object(OrderFacts),
  example: factsExample,
});

export const OrderRejected = defineEvent('order.rejected', {
  version: 1,
  owner: 'order',
  description: 'The order is REJECTED; inventory releases anything it may hold for it.',
  payload: z.object({ ...OrderFacts, reason: RejectionReason, skus: Skus }),
  example: { ...factsExample, reason: 'OUT_OF_STOCK', skus: ['LAPTOP-STAND'] },
});

export const OrderCancelled = defineEvent('order.cancelled', {
  version: 1,
  owner: 'order',
  description: 'A CONFIRMED order was CANCELLED by the customer; its stock is released.',
  payload: z.object(OrderFacts),
  example: factsExample,
});
