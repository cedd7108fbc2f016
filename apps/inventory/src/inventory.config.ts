import {
  type Env,
  loadServiceConfig,
  flag,
  type ServiceConfig,
  type ServiceDefaults,
} from '@app/platform';
import { z } from 'zod';

export interface InventoryConfig extends ServiceConfig {
  inventory: {
    /** `inventory.stock-low` fires when a reservation takes a SKU to this many units or fewer. */
    stockLowThreshold: number;
    /** Load stock.fixture.ts into an empty stock table at start-up. */
    seed: boolean;
  };
}

/** The variables only this service reads (the common ones are in @app/platform serviceEnv). */
export const inventoryEnv = z.object({
  STOCK_LOW_THRESHOLD: z.coerce.number().int().min(0).default(5),
  INVENTORY_SEED: flag.default(true),
});

/** Its HTTP port and database schema, unless HTTP_PORT / DATABASE_SCHEMA say otherwise. */
export const inventoryDefaults: ServiceDefaults = { port: 3002, schema: 'inventory' };

export function loadInventoryConfig(env: Env = process.env): InventoryConfig {
  const { config, env: own } = loadServiceConfig('inventory', env, inventoryDefaults, inventoryEnv);
  return {
    ...config,
    inventory: { stockLowThreshold: own.STOCK_LOW_THRESHOLD, seed: own.INVENTORY_SEED },
  };
}
