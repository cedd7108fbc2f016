export * from './inventory-reserve.rpc.js';
export * from './inventory-events.js';
