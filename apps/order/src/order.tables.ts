import type { ColumnType, Generated } from 'kysely';
import type { OrderStatus } from './orders/order.js';

export interface OrdersTable {
  id: string;
  /** Insertion order: the exact, gap-tolerant key behind cursor pagination. */
  seq: Generated<string>;
  status: OrderStatus;
  customer_email: string;
  items: ColumnType<unknown, string, string>;
  rejection_reason: string | null;
  rejected_skus: ColumnType<unknown, string | null, string | null>;
  /** The API client that placed it; null for orders from before owners were recorded. */
  client_id: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface OrderTables {
  orders: OrdersTable;
}
