import { z } from 'zod';
import { Instant, OrderId, OrderItem, Sku } from '../common.js';
import { defineEvent } from '../define.js';

export const InventoryReserved = defineEvent('inventory.reserved', {
  version: 1,
  description: 'Stock was reserved for an order.',
  payload: z.object({ orderId: OrderId, items: z.array(OrderItem), occurredAt: Instant }),
});

export const InventoryReleased = defineEvent('inventory.released', {
  version: 1,
  description: "An order's reservation was released and its units returned to stock.",
  payload: z.object({
    orderId: OrderId,
    items: z.array(OrderItem),
    reason: z.enum(['ORDER_CANCELLED', 'ORDER_REJECTED']),
    occurredAt: Instant,
  }),
});

export const InventoryStockLow = defineEvent('inventory.stock-low', {
  version: 1,
  description: 'Available units of a SKU fell to or below the configured threshold.',
  payload: z.object({
    sku: Sku,
    available: z.number().int().min(0),
    threshold: z.number().int().min(0),
    occurredAt: Instant,
  }),
});
