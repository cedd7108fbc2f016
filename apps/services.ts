/**
 * Every service of this repository, by name: how to build it (`ServiceDefinition`), the
 * variables it reads besides the common ones, its migrations and its HTTP port. The e2e
 * system (test/support/system.ts), the deployment checks (test/deploy) and `npm run migrate`
 * iterate over it; `npm run new:service` adds a line. Not an app: apps never import it.
 */
import type { ServiceConfig, ServiceDefinition } from '@app/platform';
import type { Migration } from 'kysely/migration';
import type { z } from 'zod';
import { inventoryService } from './inventory/src/inventory-app.module.js';
import { inventoryDefaults, inventoryEnv } from './inventory/src/inventory.config.js';
import { inventoryMigrations } from './inventory/src/migrations/index.js';
import { notificationService } from './notification/src/notification-app.module.js';
import { notificationDefaults, notificationEnv } from './notification/src/notification.config.js';
import { notificationMigrations } from './notification/src/migrations/index.js';
import { orderService } from './order/src/order-app.module.js';
import { orderDefaults, orderEnv } from './order/src/order.config.js';
import { orderMigrations } from './order/src/migrations/index.js';

export interface RegisteredService<C extends ServiceConfig = ServiceConfig> {
  definition: ServiceDefinition<C>;
  /** The service's own variables (documented in .env.example). */
  env: z.ZodObject;
  migrations: Record<string, Migration>;
  /** Default HTTP port (from the app's config): the Dockerfile target and docker-compose.yml use it too. */
  port: number;
}

/** Keeps each service's own config type while checking the entry's shape. */
const register = <C extends ServiceConfig>(service: RegisteredService<C>) => service;

export const services = {
  order: register({
    definition: orderService,
    env: orderEnv,
    migrations: orderMigrations,
    port: orderDefaults.port,
  }),
  inventory: register({
    definition: inventoryService,
    env: inventoryEnv,
    migrations: inventoryMigrations,
    port: inventoryDefaults.port,
  }),
  notification: register({
    definition: notificationService,
    env: notificationEnv,
    migrations: notificationMigrations,
    port: notificationDefaults.port,
  }),
};

export type ServiceName = keyof typeof services;

export const serviceNames = Object.keys(services) as ServiceName[];

/** An entry with its config type erased, for code that treats every service alike. */
export function serviceEntry(name: ServiceName): RegisteredService {
  return services[name] as unknown as RegisteredService;
}
