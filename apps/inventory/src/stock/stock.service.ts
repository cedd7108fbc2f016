import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { InventoryConfig } from '../inventory.config.js';
import { stockFixture } from './stock.fixture.js';
import { type StockLevel, StockRepository } from './stock.repository.js';

export type { StockLevel };

export class SkuNotFoundError extends Error {
  readonly code = 'INVENTORY.SKU_NOT_FOUND';
  constructor(sku: string) {
    super(`No stock record for SKU ${sku}`);
  }
}

@Injectable()
export class StockService implements OnApplicationBootstrap {
  private readonly logger = new Logger(StockService.name);

  constructor(
    private readonly stock: StockRepository,
    private readonly config: ConfigService<InventoryConfig, true>,
  ) {}

  async get(sku: string): Promise<StockLevel> {
    const level = await this.stock.find(sku);
    if (!level) throw new SkuNotFoundError(sku);
    return level;
  }

  /** Sets the available units (restock or correction); the column check refuses below 0. */
  set(sku: string, available: number): Promise<StockLevel> {
    return this.stock.set(sku, available);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.get('inventory', { infer: true }).seed) return;
    const seeded = await this.stock.seedIfEmpty(stockFixture);
    if (seeded > 0) this.logger.log(`Seeded stock for ${seeded} SKUs`);
  }
}
