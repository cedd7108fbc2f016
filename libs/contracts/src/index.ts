export * from './define.js';
export * from './common.js';
export * from './inventory/inventory-reserve.rpc.js';
export * from './inventory/inventory-events.js';
export * from './order/order-events.js';
export { allContracts } from './registry.js';
