// Consumers accept unknown fields (zod strips them) so a producer can add optional fields
// without a new version; see docs/contracts.md.
import { z } from 'zod';

export const Sku = z
  .string()
  .max(64)
  .regex(/^[A-Z0-9][A-Z0-9-]{1,63}$/, 'must be 2-64 characters of A-Z, 0-9 and "-"');

export const OrderItem = z.object({
  sku: Sku,
  quantity: z.number().int().min(1).max(10_000),
});
export type OrderItem = z.infer<typeof OrderItem>;

export const OrderItems = z.array(OrderItem).min(1).max(100);

/** The SKUs an answer names (at most one per line of an order). */
export const Skus = z.array(Sku).max(100);

export const OrderId = z.uuid();

/** ISO-8601 instant, as produced by `Date.prototype.toISOString`. */
export const Instant = z.iso.datetime({ offset: true }).max(64);

/** RFC 5321's limit on a forward path. */
export const Email = z.email().max(254);

export const RejectionReason = z.enum(['OUT_OF_STOCK', 'INVALID_ITEMS', 'INVENTORY_UNAVAILABLE']);
export type RejectionReason = z.infer<typeof RejectionReason>;
