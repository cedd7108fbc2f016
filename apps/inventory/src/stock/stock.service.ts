import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DATABASE } from '@app/platform';
import { type Kysely, sql } from 'kysely';
import type { InventoryConfig } from '../inventory.config.js';
import type { InventoryTables } from '../inventory.tables.js';
import { stockFixture } from './stock.fixture.js';

export interface StockLevel {
  sku: string;
  available: number;
  updatedAt: string;
}

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
    @Inject(DATABASE) private readonly db: Kysely<InventoryTables>,
    private readonly config: ConfigService<InventoryConfig, true>,
  ) {}

  async get(sku: string): Promise<StockLevel> {
    const row = await this.db
      .selectFrom('stock')
      .select(['sku', 'available', 'updated_at'])
      .where('sku', '=', sku)
      .executeTakeFirst();
    if (!row) throw new SkuNotFoundError(sku);
    return toLevel(row);
  }

  /** Sets the available units (restock or correction); the column check refuses below 0. */
  async set(sku: string, available: number): Promise<StockLevel> {
    const row = await this.db
      .insertInto('stock')
      .values({ sku, available })
      .onConflict((oc) => oc.column('sku').doUpdateSet({ available, updated_at: new Date() }))
      .returning(['sku', 'available', 'updated_at'])
      .executeTakeFirstOrThrow();
    return toLevel(row);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.get('inventory', { infer: true }).seed) return;
    // Only into an empty table: a restart never overwrites real stock.
    const seeded = await sql<{ sku: string }>`
      insert into stock (sku, available)
      select * from jsonb_to_recordset(${JSON.stringify(stockFixture)}::jsonb) as s(sku text, available int)
      where not exists (select 1 from stock)
      on conflict do nothing
      returning sku`.execute(this.db);
    if (seeded.rows.length > 0) this.logger.log(`Seeded stock for ${seeded.rows.length} SKUs`);
  }
}

function toLevel(row: { sku: string; available: number; updated_at: Date }): StockLevel {
  return { sku: row.sku, available: row.available, updatedAt: row.updated_at.toISOString() };
}
