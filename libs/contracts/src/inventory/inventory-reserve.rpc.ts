import { z } from 'zod';
import { OrderId, OrderItems, Skus } from '../common.js';
import { defineRpc } from '../define.js';

export const ReserveResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('RESERVED'), orderId: OrderId, items: OrderItems }),
  z.object({
    status: z.literal('REJECTED'),
    orderId: OrderId,
    /** OUT_OF_STOCK: not enough units; INVALID_ITEMS: unknown SKU; ORDER_CLOSED: already released. */
    reason: z.enum(['OUT_OF_STOCK', 'INVALID_ITEMS', 'ORDER_CLOSED']),
    skus: Skus,
  }),
]);
export type ReserveResult = z.infer<typeof ReserveResult>;

export const InventoryReserve = defineRpc('inventory.reserve', {
  version: 1,
  owner: 'inventory',
  callers: ['order'],
  description:
    'Reserve every line of an order atomically. Idempotent by orderId: a repeat returns the first answer.',
  request: z.object({ orderId: OrderId, items: OrderItems }),
  response: ReserveResult,
  example: {
    request: {
      orderId: '3e9a1c55-7b2d-4c1e-9f0a-2b3c4d5e6f70',
      items: [{ sku: 'LAPTOP-STAND', quantity: 2 }],
    },
    response: {
      status: 'RESERVED',
      orderId: '3e9a1c55-7b2d-4c1e-9f0a-2b3c4d5e6f70',
      items: [{ sku: 'LAPTOP-STAND', quantity: 2 }],
    },
  },
});
