import { Injectable } from '@nestjs/common';
import type { OrderItem, RejectionReason } from '@app/contracts';
import { Database, type Transaction } from '@app/database';
import type { Order, OrderStatus, Outcome } from './order.js';
import * as sql from './orders.statements.js';

/** Whose orders a query sees: one client's, or every client's (`undefined`: admin). */
export type Owner = string | undefined;

export interface OrderPage {
  items: Order[];
  nextCursor: string | null;
}

export interface NewOrder {
  id: string;
  customerEmail: string;
  items: OrderItem[];
  clientId: string;
  idempotencyKey?: string;
  /** Of the request that first used `idempotencyKey`; null without a key. */
  requestHash: string | null;
}

/** An order placed earlier under the same Idempotency-Key, and the hash of its request. */
export interface EarlierOrder {
  order: Order;
  requestHash: string | null;
}

/** SQL for orders, nothing else: no events, no rules. */
@Injectable()
export class OrdersRepository {
  constructor(private readonly db: Database) {}

  /** The order stored PENDING; undefined if the client used its Idempotency-Key before. */
  async insertPending(tx: Transaction, order: NewOrder): Promise<Order | undefined> {
    const [row] = await tx.query(sql.insertPending, [
      order.id,
      order.customerEmail,
      JSON.stringify(order.items),
      order.clientId,
      order.idempotencyKey ?? null,
      order.requestHash,
    ]);
    return row && toOrder(row);
  }

  async find(id: string, owner?: Owner): Promise<Order | undefined> {
    const row = await this.db.first(sql.findById, [id, owner ?? null]);
    return row && toOrder(row);
  }

  /** Those of `ids` that exist, in no particular order. */
  async findMany(ids: string[]): Promise<Order[]> {
    return (await this.db.query(sql.findByIds, [ids])).map(toOrder);
  }

  async findForUpdate(tx: Transaction, id: string, owner?: Owner): Promise<Order | undefined> {
    const [row] = await tx.query(sql.lockById, [id, owner ?? null]);
    return row && toOrder(row);
  }

  /** Keys are the client's own: another client's key of the same text is another key. */
  async findByIdempotencyKey(clientId: string, key: string): Promise<EarlierOrder | undefined> {
    const row = await this.db.first(sql.findByIdempotencyKey, [clientId, key]);
    return row && { order: toOrder(row), requestHash: row.request_hash };
  }

  /** Applies `outcome` only if the order is still PENDING; returns undefined otherwise. */
  async settle(tx: Transaction, id: string, outcome: Outcome): Promise<Order | undefined> {
    const rejected = outcome.status === 'REJECTED';
    const [row] = await tx.query(sql.settlePending, [
      id,
      outcome.status,
      rejected ? outcome.reason : null,
      rejected ? JSON.stringify(outcome.skus) : null,
    ]);
    return row && toOrder(row);
  }

  async setStatus(tx: Transaction, id: string, status: OrderStatus): Promise<Order> {
    const [row] = await tx.query(sql.setStatus, [id, status]);
    if (!row) throw new Error(`Order ${id} vanished inside its transaction`);
    return toOrder(row);
  }

  /** PENDING orders older than `olderThanMs`, locked; replicas skip each other's rows. */
  async lockStalePending(tx: Transaction, olderThanMs: number, limit: number): Promise<Order[]> {
    const rows = await tx.query(sql.lockStalePending, [new Date(Date.now() - olderThanMs), limit]);
    return rows.map(toOrder);
  }

  /** Newest first; the cursor is the last row's `seq`, opaque to clients. */
  async list(
    filter: { status?: OrderStatus; limit: number; cursor?: string },
    owner?: Owner,
  ): Promise<OrderPage> {
    const rows = await this.db.query(sql.listNewestFirst, [
      owner ?? null,
      filter.status ?? null,
      filter.cursor ? decodeCursor(filter.cursor) : null,
      filter.limit + 1,
    ]);
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return {
      items: page.map(toOrder),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last.seq) : null,
    };
  }
}

export class InvalidCursorError extends Error {
  readonly code = 'ORDER.INVALID_CURSOR';
  constructor() {
    super('cursor is not one this API returned');
  }
}

function encodeCursor(seq: string): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

/** PostgreSQL's bigint: a larger `seq` was never issued, and would fail the query. */
const MAX_SEQ = 2n ** 63n - 1n;

function decodeCursor(cursor: string): string {
  const match = /^seq:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || BigInt(match[1]!) > MAX_SEQ) throw new InvalidCursorError();
  return match[1]!;
}

function toOrder(row: sql.OrderRow): Order {
  return {
    id: row.id,
    status: row.status,
    customerEmail: row.customer_email,
    items: row.items,
    rejection: row.rejection_reason
      ? { reason: row.rejection_reason as RejectionReason, skus: row.rejected_skus ?? [] }
      : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
