import { Inject, Injectable } from '@nestjs/common';
import type { OrderItem, RejectionReason } from '@app/contracts';
import { DATABASE } from '@app/platform';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { OrdersTable, OrderTables } from '../order.tables.js';
import type { Order, OrderStatus, Outcome } from './order.js';

export type OrdersTx = Transaction<OrderTables>;
type Db = Kysely<OrderTables> | OrdersTx;

/** Whose orders a query sees: one client's, or every client's (`undefined`: admin). */
export type Owner = string | undefined;

export interface OrderPage {
  items: Order[];
  nextCursor: string | null;
}

/** SQL for orders, nothing else: no events, no rules. */
@Injectable()
export class OrdersRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<OrderTables>) {}

  async insertPending(
    trx: OrdersTx,
    order: {
      id: string;
      customerEmail: string;
      items: OrderItem[];
      clientId: string;
      idempotencyKey?: string;
      requestHash: string;
    },
  ): Promise<Order> {
    const row = await trx
      .insertInto('orders')
      .values({
        id: order.id,
        status: 'PENDING',
        customer_email: order.customerEmail,
        items: JSON.stringify(order.items),
        rejection_reason: null,
        rejected_skus: null,
        client_id: order.clientId,
        idempotency_key: order.idempotencyKey ?? null,
        request_hash: order.requestHash,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toOrder(row);
  }

  async find(id: string, owner?: Owner, db: Db = this.db): Promise<Order | undefined> {
    let query = db.selectFrom('orders').selectAll().where('id', '=', id);
    if (owner !== undefined) query = query.where('client_id', '=', owner);
    const row = await query.executeTakeFirst();
    return row && toOrder(row);
  }

  async findForUpdate(trx: OrdersTx, id: string, owner?: Owner): Promise<Order | undefined> {
    let query = trx.selectFrom('orders').selectAll().where('id', '=', id);
    if (owner !== undefined) query = query.where('client_id', '=', owner);
    const row = await query.forUpdate().executeTakeFirst();
    return row && toOrder(row);
  }

  /** Keys are the client's own: another client's key of the same text is another key. */
  async findByIdempotencyKey(
    clientId: string,
    key: string,
  ): Promise<{ order: Order; requestHash: string | null } | undefined> {
    const row = await this.db
      .selectFrom('orders')
      .selectAll()
      .where('client_id', '=', clientId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    return row && { order: toOrder(row), requestHash: row.request_hash };
  }

  /** Applies `outcome` only if the order is still PENDING; returns undefined otherwise. */
  async settle(trx: OrdersTx, id: string, outcome: Outcome): Promise<Order | undefined> {
    const row = await trx
      .updateTable('orders')
      .set({
        status: outcome.status,
        rejection_reason: outcome.status === 'REJECTED' ? outcome.reason : null,
        rejected_skus: outcome.status === 'REJECTED' ? JSON.stringify(outcome.skus) : null,
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .where('status', '=', 'PENDING')
      .returningAll()
      .executeTakeFirst();
    return row && toOrder(row);
  }

  async setStatus(trx: OrdersTx, id: string, status: OrderStatus): Promise<Order> {
    const row = await trx
      .updateTable('orders')
      .set({ status, updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toOrder(row);
  }

  /** PENDING orders older than `olderThanMs`, locked; replicas skip each other's rows. */
  async lockStalePending(trx: OrdersTx, olderThanMs: number, limit: number): Promise<Order[]> {
    const rows = await trx
      .selectFrom('orders')
      .selectAll()
      .where('status', '=', 'PENDING')
      .where('created_at', '<', new Date(Date.now() - olderThanMs))
      .orderBy('seq')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    return rows.map(toOrder);
  }

  /** Newest first; the cursor is the last row's `seq`, opaque to clients. */
  async list(
    filter: { status?: OrderStatus; limit: number; cursor?: string },
    owner?: Owner,
  ): Promise<OrderPage> {
    let query = this.db
      .selectFrom('orders')
      .selectAll()
      .orderBy('seq', 'desc')
      .limit(filter.limit + 1);
    if (owner !== undefined) query = query.where('client_id', '=', owner);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.cursor) query = query.where('seq', '<', decodeCursor(filter.cursor));
    const rows = await query.execute();
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

function toOrder(row: Selectable<OrdersTable>): Order {
  return {
    id: row.id,
    status: row.status,
    customerEmail: row.customer_email,
    items: row.items as OrderItem[],
    rejection: row.rejection_reason
      ? {
          reason: row.rejection_reason as RejectionReason,
          skus: (row.rejected_skus ?? []) as string[],
        }
      : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
