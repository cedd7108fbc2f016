import type { OrderItem } from '@app/contracts';

/**
 * Stock loaded into an empty `stock` table on first start (INVENTORY_SEED=true, the default),
 * so the README's curl flow works at once. Documented in README.md ("Sample data").
 */
export const stockFixture: readonly { sku: OrderItem['sku']; available: number }[] = [
  { sku: 'KEYBOARD-01', available: 100 },
  { sku: 'MOUSE-01', available: 250 },
  { sku: 'MONITOR-27', available: 20 },
  { sku: 'USB-C-CABLE', available: 1_000 },
  { sku: 'LAPTOP-STAND', available: 8 },
];
