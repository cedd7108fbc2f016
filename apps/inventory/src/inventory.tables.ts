import type { ColumnType } from 'kysely';

export interface StockTable {
  sku: string;
  available: number;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type ReservationStatus = 'PENDING' | 'RESERVED' | 'REJECTED' | 'RELEASED';

export interface ReservationsTable {
  order_id: string;
  status: ReservationStatus;
  /** The reserved lines (aggregated by SKU). */
  items: ColumnType<unknown, string, string>;
  /** The first answer, returned again to a repeated request. */
  result: ColumnType<unknown, string | null, string | null>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface InventoryTables {
  stock: StockTable;
  reservations: ReservationsTable;
}
