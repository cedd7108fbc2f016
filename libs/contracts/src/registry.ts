import { contractsIn, type MessageContract } from './define.js';
import * as inventory from './inventory/index.js';
import * as order from './order/index.js';

/**
 * Every message the system speaks, every version still in use: whatever a namespace's
 * index.ts exports. Documentation and the contract tests iterate over it.
 */
export const allContracts: readonly MessageContract[] = [
  ...contractsIn(inventory),
  ...contractsIn(order),
];
