import type { Order } from './order.js';

/** A PENDING order, for unit tests. */
export const pendingOrder: Order = Object.freeze({
  id: '0b7f0d7e-3a47-4d8e-9a43-3d3f2f1c9a11',
  status: 'PENDING',
  customerEmail: 'ada@example.com',
  items: [{ sku: 'MUG-1', quantity: 1 }],
  rejection: null,
  createdAt: '2030-01-02T03:04:05.000Z',
  updatedAt: '2030-01-02T03:04:05.000Z',
});
