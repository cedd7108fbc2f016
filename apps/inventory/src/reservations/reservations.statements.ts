import type { OrderItem } from '@app/contracts';
import { statement } from '@app/database';

export type ReservationStatus = 'PENDING' | 'RESERVED' | 'REJECTED' | 'RELEASED';

export interface ReservationRow {
  status: ReservationStatus;
  /** The reserved lines (aggregated by SKU). */
  items: OrderItem[];
  /** The first answer, returned again to a repeated request. */
  result: unknown;
}

/** Nothing when the order has a reservation (or tombstone) already. */
export const insertReservation = statement<
  { order_id: string },
  [orderId: string, status: 'PENDING' | 'RELEASED', items: string]
>(
  'reservations.insert',
  `insert into reservations (order_id, status, items, result) values ($1, $2, $3, null)
   on conflict (order_id) do nothing returning order_id`,
);

export const lockReservation = statement<ReservationRow, [orderId: string]>(
  'reservations.lock',
  `select status, items, result from reservations where order_id = $1 for update`,
);

export const finishReservation = statement<
  never,
  [orderId: string, status: ReservationStatus, result: string | null]
>(
  'reservations.finish',
  `update reservations set status = $2, result = coalesce($3, result), updated_at = now()
   where order_id = $1`,
);
