import { z } from 'zod';
import { Instant, OrderId, OrderItems, Sku } from '../common.js';
import { defineEvent } from '../define.js';

export const InventoryReserved = defineEvent('inventory.reserved', {
  version: 1,
  owner: 'inventory',
  description: 'Stock was reserved for an order.',
  payload: z.object({ orderId: OrderId, items: OrderItems, occurredAt: Instant }),
  example: {
    orderId: '3e9a1c55-7b2d-4c1e-9f0a-2b3c4d5e6f70',
    items: [{ sku: 'LAPTOP-STAND', quantity: 2 }],
    occurredAt: '2030-01-02T03:04:05.000Z',
  },
});

export const InventoryReleased = defineEvent('inventory.released', {
  version: 1,
  owner: 'inventory',
  description: "An order's reservation was released and its units returned to stock.",
  payload: z.object({
    orderId: OrderId,
    items: OrderItems,
    reason: z.enum(['ORDER_CANCELLED', 'ORDER_REJECTED']),
    occurredAt: Instant,
  }),
  example: {
    orderId: '3e9a1c55-7b2d-4c1e-9f0a-2b3c4d5e6f70',
    items: [{ sku: 'LAPTOP-STAND', quantity: 2 }],
    reason: 'ORDER_CANCELLED',
    occurredAt: '2030-01-02T03:04:05.000Z',
  },
});

export const InventoryStockLow = defineEvent('inventory.stock-low', {
  version: 1,
  owner: 'inventory',
  description: 'Available units of a SKU fell to or below the configured threshold.',
  payload: z.object({
    sku: Sku,
    available: z.number().int().min(0),
    threshold: z.number().int().min(0),
    occurredAt: Instant,
  }),
  example: {
    sku: 'LAPTOP-STAND',
    available: 4,
    threshold: 5,
    occurredAt: '2030-01-02T03:04:05.000Z',
  },
});
