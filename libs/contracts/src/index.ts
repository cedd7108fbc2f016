export * from './define.js';
export * from './versions.js';
export * from './common.js';
// One line per namespace; a namespace's index.ts lists its contract files.
export * from './inventory/index.js';
export * from './order/index.js';
export { allContracts } from './registry.js';
