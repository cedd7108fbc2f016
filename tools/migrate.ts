/**
 * `npm run migrate [order|inventory|notification ...]`: applies every pending migration of
 * each service to its own schema, with the same environment the services read (.env).
 * The services also migrate on start unless DB_MIGRATE_ON_START=false.
 */
import { existsSync } from 'node:fs';
import { loadInventoryConfig } from '../apps/inventory/src/inventory.config.js';
import { inventoryMigrations } from '../apps/inventory/src/migrations/index.js';
import { notificationMigrations } from '../apps/notification/src/migrations/index.js';
import { loadNotificationConfig } from '../apps/notification/src/notification.config.js';
import { orderMigrations } from '../apps/order/src/migrations/index.js';
import { loadOrderConfig } from '../apps/order/src/order.config.js';
import {
  ConfigValidationError,
  createDatabase,
  migrateToLatest,
  type ServiceConfig,
} from '@app/platform';
import type { Migration } from 'kysely/migration';

const services: Record<
  string,
  { load: () => ServiceConfig; migrations: Record<string, Migration> }
> = {
  order: { load: () => loadOrderConfig(), migrations: orderMigrations },
  inventory: { load: () => loadInventoryConfig(), migrations: inventoryMigrations },
  notification: { load: () => loadNotificationConfig(), migrations: notificationMigrations },
};

if (existsSync('.env')) process.loadEnvFile('.env');
const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !(name in services));
if (unknown.length > 0) {
  console.error(
    `Unknown service(s): ${unknown.join(', ')}. Choose from: ${Object.keys(services).join(', ')}`,
  );
  process.exit(2);
}

for (const name of chosen.length > 0 ? chosen : Object.keys(services)) {
  const service = services[name]!;
  let config: ServiceConfig;
  try {
    config = service.load();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(`${name}: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  const db = createDatabase(config.database);
  try {
    const applied = await migrateToLatest(db, config.database.schema, service.migrations);
    console.log(
      `${name}: schema "${config.database.schema}" ${applied.length > 0 ? `applied ${applied.join(', ')}` : 'is up to date'}`,
    );
  } finally {
    await db.destroy();
  }
}
