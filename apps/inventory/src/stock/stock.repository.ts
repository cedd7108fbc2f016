import { Injectable } from '@nestjs/common';
import type { OrderItem } from '@app/contracts';
import { Database, type Transaction } from '@app/database';
import * as sql from './stock.statements.js';

export interface StockLevel {
  sku: string;
  available: number;
  updatedAt: string;
}

/** SQL for stock levels, nothing else. */
@Injectable()
export class StockRepository {
  constructor(private readonly db: Database) {}

  /** Available units of each SKU that exists, its row locked until the transaction ends. */
  async lock(tx: Transaction, skus: string[]): Promise<Map<string, number>> {
    const rows = await tx.query(sql.lockSkus, [skus]);
    return new Map(rows.map((r) => [r.sku, r.available]));
  }

  /** `direction` -1 takes the lines from stock, +1 gives them back; rows locked by `lock`. */
  adjust(tx: Transaction, lines: readonly OrderItem[], direction: 1 | -1): void {
    tx.write(sql.adjustAvailable, [
      lines.map((l) => l.sku),
      lines.map((l) => direction * l.quantity),
    ]);
  }

  async find(sku: string): Promise<StockLevel | undefined> {
    const row = await this.db.first(sql.findSku, [sku]);
    return row && toLevel(row);
  }

  async set(sku: string, available: number): Promise<StockLevel> {
    return toLevel((await this.db.first(sql.setAvailable, [sku, available]))!);
  }

  /** Seeds `levels` into an empty table; returns how many SKUs it added (0 if not empty). */
  async seedIfEmpty(levels: readonly { sku: string; available: number }[]): Promise<number> {
    return (await this.db.query(sql.seedIfEmpty, [JSON.stringify(levels)])).length;
  }
}

function toLevel(row: sql.StockRow): StockLevel {
  return { sku: row.sku, available: row.available, updatedAt: row.updated_at.toISOString() };
}
