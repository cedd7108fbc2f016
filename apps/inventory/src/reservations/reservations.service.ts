import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  InventoryReleased,
  InventoryReserved,
  InventoryStockLow,
  type OrderItem,
  type RequestOf,
  type ReserveResult,
  type InventoryReserve,
} from '@app/contracts';
import { Outbox } from '@app/messaging';
import { DATABASE } from '@app/platform';
import type { Kysely, Transaction } from 'kysely';
import type { InventoryConfig } from '../inventory.config.js';
import type { InventoryTables, ReservationsTable } from '../inventory.tables.js';
import { aggregateLines, crossesThreshold, decide } from './reservation.js';

type Tx = Transaction<InventoryTables>;
export type ReleaseReason = 'ORDER_CANCELLED' | 'ORDER_REJECTED';

@Injectable()
export class ReservationsService {
  private readonly logger = new Logger(ReservationsService.name);
  private readonly threshold: number;

  constructor(
    @Inject(DATABASE) private readonly db: Kysely<InventoryTables>,
    private readonly outbox: Outbox,
    config: ConfigService<InventoryConfig, true>,
  ) {
    this.threshold = config.get('inventory', { infer: true }).stockLowThreshold;
  }

  /**
   * All lines or none, in one transaction. The reservation row is inserted first, so a
   * concurrent request for the same order waits on it and then returns the first answer;
   * stock rows are locked in SKU order, so concurrent orders never deadlock or oversell.
   */
  async reserve(request: RequestOf<typeof InventoryReserve>): Promise<ReserveResult> {
    const result = await this.reserveIn(request);
    this.logger.log(
      result.status === 'RESERVED'
        ? `Reserved stock for order ${result.orderId}`
        : `Refused order ${result.orderId}: ${result.reason}`,
    );
    return result;
  }

  private reserveIn({
    orderId,
    items,
  }: RequestOf<typeof InventoryReserve>): Promise<ReserveResult> {
    return this.outbox.transaction(async (trx: Tx) => {
      const lines = aggregateLines(items);
      const claimed = await trx
        .insertInto('reservations')
        .values({
          order_id: orderId,
          status: 'PENDING',
          items: JSON.stringify(lines),
          result: null,
        })
        .onConflict((oc) => oc.column('order_id').doNothing())
        .returning('order_id')
        .executeTakeFirst();
      if (!claimed) return this.previousAnswer(trx, orderId);

      const stock = await trx
        .selectFrom('stock')
        .select(['sku', 'available'])
        .where(
          'sku',
          'in',
          lines.map((l) => l.sku),
        )
        .orderBy('sku')
        .forUpdate()
        .execute();
      const available = new Map(stock.map((s) => [s.sku, s.available]));
      const decision = decide(lines, available);
      if (decision.status === 'REJECTED') {
        const result: ReserveResult = { orderId, ...decision };
        await this.finish(trx, orderId, 'REJECTED', result);
        return result;
      }
      await this.adjustStock(trx, lines, -1);
      const result: ReserveResult = { orderId, status: 'RESERVED', items: lines };
      await this.finish(trx, orderId, 'RESERVED', result);
      const occurredAt = new Date().toISOString();
      await this.outbox.add(trx, InventoryReserved, { orderId, items: lines, occurredAt });
      for (const line of lines) {
        const before = available.get(line.sku)!;
        if (crossesThreshold(before, line.quantity, this.threshold)) {
          await this.outbox.add(trx, InventoryStockLow, {
            sku: line.sku,
            available: before - line.quantity,
            threshold: this.threshold,
            occurredAt,
          });
        }
      }
      return result;
    });
  }

  /**
   * Returns what an order holds to stock. Idempotent; for an order never seen it leaves a
   * RELEASED tombstone, so a reserve arriving late (after a timeout) is refused.
   */
  release(orderId: string, reason: ReleaseReason): Promise<void> {
    return this.outbox.transaction(async (trx: Tx) => {
      const tombstone = await trx
        .insertInto('reservations')
        .values({ order_id: orderId, status: 'RELEASED', items: '[]', result: null })
        .onConflict((oc) => oc.column('order_id').doNothing())
        .returning('order_id')
        .executeTakeFirst();
      if (tombstone) return;
      const existing = await this.lockReservation(trx, orderId);
      if (existing.status === 'RELEASED') return;
      if (existing.status === 'RESERVED') {
        const lines = existing.items as OrderItem[];
        await this.adjustStock(trx, lines, +1);
        await this.outbox.add(trx, InventoryReleased, {
          orderId,
          items: lines,
          reason,
          occurredAt: new Date().toISOString(),
        });
      }
      await trx
        .updateTable('reservations')
        .set({ status: 'RELEASED', updated_at: new Date() })
        .where('order_id', '=', orderId)
        .execute();
    });
  }

  private async previousAnswer(trx: Tx, orderId: string): Promise<ReserveResult> {
    const existing = await this.lockReservation(trx, orderId);
    if (existing.status === 'RELEASED') {
      return { orderId, status: 'REJECTED', reason: 'ORDER_CLOSED', skus: [] };
    }
    return existing.result as ReserveResult;
  }

  private lockReservation(trx: Tx, orderId: string) {
    return trx
      .selectFrom('reservations')
      .select(['status', 'items', 'result'])
      .where('order_id', '=', orderId)
      .forUpdate()
      .executeTakeFirstOrThrow();
  }

  private async finish(
    trx: Tx,
    orderId: string,
    status: ReservationsTable['status'],
    result: ReserveResult,
  ): Promise<void> {
    await trx
      .updateTable('reservations')
      .set({ status, result: JSON.stringify(result), updated_at: new Date() })
      .where('order_id', '=', orderId)
      .execute();
  }

  /** `direction` -1 takes the lines from stock, +1 gives them back. */
  private async adjustStock(
    trx: Tx,
    lines: readonly OrderItem[],
    direction: 1 | -1,
  ): Promise<void> {
    for (const { sku, quantity } of lines) {
      await trx
        .updateTable('stock')
        .set((eb) => ({
          available: eb('available', '+', direction * quantity),
          updated_at: new Date(),
        }))
        .where('sku', '=', sku)
        .execute();
    }
  }
}
