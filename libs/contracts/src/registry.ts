import type { MessageContract } from './define.js';
import {
  InventoryReleased,
  InventoryReserved,
  InventoryStockLow,
} from './inventory/inventory-events.js';
import { InventoryReserve } from './inventory/inventory-reserve.rpc.js';
import {
  OrderCancelled,
  OrderConfirmed,
  OrderCreated,
  OrderRejected,
} from './order/order-events.js';

/** Every message the system speaks; documentation and contract tests iterate over it. */
export const allContracts: readonly MessageContract[] = [
  InventoryReserve,
  OrderCreated,
  OrderConfirmed,
  OrderRejected,
  OrderCancelled,
  InventoryReserved,
  InventoryReleased,
  InventoryStockLow,
];
