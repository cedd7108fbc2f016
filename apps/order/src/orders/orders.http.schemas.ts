import { Email, OrderItem, RejectionReason, Sku } from '@app/contracts';
import { z } from 'zod';
import type { Order } from './order.js';
import type { OrderPage } from './orders.repository.js';

/** What the HTTP API accepts and answers: validation and the OpenAPI document both use these. */
export const OrderStatusSchema = z.enum(['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED']);

export const CreateOrderBody = z.strictObject({
  customerEmail: Email,
  items: z.array(z.strictObject(OrderItem.shape)).min(1).max(100),
});

export const ListOrdersQuery = z.strictObject({
  status: OrderStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const IdempotencyKeyHeader = z.string().min(1).max(255).optional();

// `satisfies`: the compiler keeps these in step with the domain types they document.
export const OrderView = z.object({
  id: z.uuid(),
  status: OrderStatusSchema,
  customerEmail: z.email(),
  items: z.array(OrderItem),
  rejection: z.object({ reason: RejectionReason, skus: z.array(Sku) }).nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
}) satisfies z.ZodType<Order>;

export const OrderPageView = z.object({
  items: z.array(OrderView),
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  nextCursor: z.string().nullable(),
}) satisfies z.ZodType<OrderPage>;

export const exampleOrderBody: z.input<typeof CreateOrderBody> = {
  customerEmail: 'ada@example.com',
  items: [{ sku: 'LAPTOP-STAND', quantity: 2 }],
};

export const exampleOrder: Order = {
  id: '3e9a1c55-7b2d-4c1e-9f0a-2b3c4d5e6f70',
  status: 'CONFIRMED',
  customerEmail: 'ada@example.com',
  items: [{ sku: 'LAPTOP-STAND', quantity: 2 }],
  rejection: null,
  createdAt: '2030-01-02T03:04:05.000Z',
  updatedAt: '2030-01-02T03:04:05.120Z',
};
