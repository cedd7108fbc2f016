import type { OrderItem } from '@app/contracts';
import { statement } from '@app/database';
import type { OrderStatus } from './order.js';

/** A row of `orders`, as every statement below returns it. */
export interface OrderRow {
  id: string;
  /** Insertion order: the exact, gap-tolerant key behind cursor pagination. */
  seq: string;
  status: OrderStatus;
  customer_email: string;
  items: OrderItem[];
  rejection_reason: string | null;
  rejected_skus: string[] | null;
  /** The API client that placed it; null for orders from before owners were recorded. */
  client_id: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, seq, status, customer_email, items, rejection_reason, rejected_skus,
  client_id, idempotency_key, request_hash, created_at, updated_at`;

/** `owner` null: any client's (admin). */
type Owner = string | null;

/** Nothing when the client used this Idempotency-Key before (its unique index). */
export const insertPending = statement<
  OrderRow,
  [
    id: string,
    customerEmail: string,
    items: string,
    clientId: string,
    idempotencyKey: string | null,
    requestHash: string | null,
  ]
>(
  'orders.insert-pending',
  `insert into orders (id, status, customer_email, items, client_id, idempotency_key, request_hash)
   values ($1, 'PENDING', $2, $3, $4, $5, $6)
   on conflict (client_id, idempotency_key) do nothing
   returning ${COLUMNS}`,
);

export const findById = statement<OrderRow, [id: string, owner: Owner]>(
  'orders.find',
  `select ${COLUMNS} from orders where id = $1 and ($2::text is null or client_id = $2)`,
);

export const findByIds = statement<OrderRow, [ids: string[]]>(
  'orders.find-many',
  `select ${COLUMNS} from orders where id = any($1::uuid[])`,
);

export const lockById = statement<OrderRow, [id: string, owner: Owner]>(
  'orders.lock',
  `select ${COLUMNS} from orders where id = $1 and ($2::text is null or client_id = $2)
   for update`,
);

export const findByIdempotencyKey = statement<OrderRow, [clientId: string, key: string]>(
  'orders.find-by-idempotency-key',
  `select ${COLUMNS} from orders where client_id = $1 and idempotency_key = $2`,
);

/** Only a PENDING order settles: nothing when it has settled already. */
export const settlePending = statement<
  OrderRow,
  [id: string, status: OrderStatus, reason: string | null, skus: string | null]
>(
  'orders.settle',
  `update orders set status = $2, rejection_reason = $3, rejected_skus = $4, updated_at = now()
   where id = $1 and status = 'PENDING'
   returning ${COLUMNS}`,
);

export const setStatus = statement<OrderRow, [id: string, status: OrderStatus]>(
  'orders.set-status',
  `update orders set status = $2, updated_at = now() where id = $1 returning ${COLUMNS}`,
);

/** Replicas skip each other's rows. */
export const lockStalePending = statement<OrderRow, [createdBefore: Date, limit: number]>(
  'orders.lock-stale-pending',
  `select ${COLUMNS} from orders where status = 'PENDING' and created_at < $1
   order by seq limit $2 for update skip locked`,
);

export const listNewestFirst = statement<
  OrderRow,
  [owner: Owner, status: OrderStatus | null, beforeSeq: string | null, limit: number]
>(
  'orders.list',
  `select ${COLUMNS} from orders
   where ($1::text is null or client_id = $1)
     and ($2::text is null or status = $2)
     and ($3::bigint is null or seq < $3)
   order by seq desc limit $4`,
);
