import { type DynamicModule, Module } from '@nestjs/common';
import { type ServiceDefinition, ServiceDefaultsModule } from '@app/platform';
import { type InventoryConfig, loadInventoryConfig } from './inventory.config.js';
import { inventoryMigrations } from './migrations/index.js';
import { ReservationsEventsController } from './reservations/reservations.events.controller.js';
import { ReservationsRpcController } from './reservations/reservations.rpc.controller.js';
import { ReservationsRepository } from './reservations/reservations.repository.js';
import { ReservationsService } from './reservations/reservations.service.js';
import { StockHttpController } from './stock/stock.http.controller.js';
import { StockRepository } from './stock/stock.repository.js';
import { StockService } from './stock/stock.service.js';

@Module({})
export class InventoryAppModule {
  static forRoot(config: InventoryConfig): DynamicModule {
    return {
      module: InventoryAppModule,
      imports: [
        ServiceDefaultsModule.forRoot(config, { migrations: inventoryMigrations, outbox: {} }),
      ],
      controllers: [StockHttpController, ReservationsRpcController, ReservationsEventsController],
      providers: [StockRepository, StockService, ReservationsRepository, ReservationsService],
    };
  }
}

/** How main.ts and the e2e tests build this service. */
export const inventoryService: ServiceDefinition<InventoryConfig> = {
  loadConfig: loadInventoryConfig,
  module: (config) => InventoryAppModule.forRoot(config),
  errorStatus: { 'INVENTORY.SKU_NOT_FOUND': 404 },
};
