import { Injectable } from '@nestjs/common';
import type { OrderItem, ReserveResult } from '@app/contracts';
import type { Transaction } from '@app/database';
import * as sql from './reservations.statements.js';

/** SQL for reservations, nothing else. One row per order id, ever. */
@Injectable()
export class ReservationsRepository {
  /**
   * The order's reservation, PENDING; false if the order has one already. A concurrent
   * claim for the same order waits here until the first one's transaction ends.
   */
  async claim(tx: Transaction, orderId: string, lines: readonly OrderItem[]): Promise<boolean> {
    const rows = await tx.query(sql.insertReservation, [orderId, 'PENDING', JSON.stringify(lines)]);
    return rows.length > 0;
  }

  /** A RELEASED row for an order never seen; false if the order has a reservation. */
  async tombstone(tx: Transaction, orderId: string): Promise<boolean> {
    return (await tx.query(sql.insertReservation, [orderId, 'RELEASED', '[]'])).length > 0;
  }

  async lock(tx: Transaction, orderId: string): Promise<sql.ReservationRow> {
    const [row] = await tx.query(sql.lockReservation, [orderId]);
    if (!row) throw new Error(`Reservation of order ${orderId} vanished inside its transaction`);
    return row;
  }

  /** Sets the final status, and with `result` the answer a repeated request gets. */
  finish(
    tx: Transaction,
    orderId: string,
    status: sql.ReservationStatus,
    result?: ReserveResult,
  ): void {
    tx.write(sql.finishReservation, [orderId, status, result ? JSON.stringify(result) : null]);
  }
}
