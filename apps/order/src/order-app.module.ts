import { type DynamicModule, Module } from '@nestjs/common';
import { type ServiceDefinition, ServiceDefaultsModule } from '@app/platform';
import { orderMigrations } from './migrations/index.js';
import { loadOrderConfig, type OrderConfig } from './order.config.js';
import { OrderStatusFeed } from './orders/order-status.feed.js';
import { OrderStatusNotifier } from './orders/order-status.notifier.js';
import { OrdersHttpController } from './orders/orders.http.controller.js';
import { OrdersRepository } from './orders/orders.repository.js';
import { OrdersService } from './orders/orders.service.js';
import { StaleOrdersSweeper } from './orders/stale-orders.sweeper.js';

@Module({})
export class OrderAppModule {
  static forRoot(config: OrderConfig): DynamicModule {
    return {
      module: OrderAppModule,
      imports: [ServiceDefaultsModule.forRoot(config, { migrations: orderMigrations, outbox: {} })],
      controllers: [OrdersHttpController],
      providers: [
        OrdersRepository,
        OrdersService,
        OrderStatusNotifier,
        OrderStatusFeed,
        StaleOrdersSweeper,
      ],
    };
  }
}

/** How main.ts and the e2e tests build this service. */
export const orderService: ServiceDefinition<OrderConfig> = {
  loadConfig: loadOrderConfig,
  module: (config) => OrderAppModule.forRoot(config),
  errorStatus: {
    'ORDER.NOT_FOUND': 404,
    'ORDER.NOT_CANCELLABLE': 409,
    'ORDER.IDEMPOTENCY_KEY_REUSED': 422,
    'ORDER.INVALID_CURSOR': 400,
    'ORDER.TOO_MANY_STREAMS': 429,
  },
};
