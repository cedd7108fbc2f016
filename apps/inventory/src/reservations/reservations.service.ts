import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  InventoryReleased,
  InventoryReserved,
  InventoryStockLow,
  type RequestOf,
  type ReserveResult,
  type InventoryReserve,
} from '@app/contracts';
import { type Transaction, UnitOfWork } from '@app/database';
import { Outbox } from '@app/outbox';
import type { InventoryConfig } from '../inventory.config.js';
import { StockRepository } from '../stock/stock.repository.js';
import { aggregateLines, crossesThreshold, decide } from './reservation.js';
import { ReservationsRepository } from './reservations.repository.js';

export type ReleaseReason = 'ORDER_CANCELLED' | 'ORDER_REJECTED';

@Injectable()
export class ReservationsService {
  private readonly logger = new Logger(ReservationsService.name);
  private readonly threshold: number;

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly reservations: ReservationsRepository,
    private readonly stock: StockRepository,
    private readonly outbox: Outbox,
    config: ConfigService<InventoryConfig, true>,
  ) {
    this.threshold = config.get('inventory', { infer: true }).stockLowThreshold;
  }

  /**
   * All lines or none, in one transaction. The reservation row is claimed first, so a
   * concurrent request for the same order waits on it and then returns the first answer;
   * stock rows are locked in SKU order, so concurrent orders never deadlock or oversell.
   */
  async reserve(request: RequestOf<typeof InventoryReserve>): Promise<ReserveResult> {
    const result = await this.unitOfWork.run((tx) => this.reserveIn(tx, request));
    this.logger.log(
      result.status === 'RESERVED'
        ? `Reserved stock for order ${result.orderId}`
        : `Refused order ${result.orderId}: ${result.reason}`,
    );
    return result;
  }

  /**
   * Returns what an order holds to stock. Idempotent; for an order never seen it leaves a
   * RELEASED tombstone, so a reserve arriving late (after a timeout) is refused.
   */
  release(orderId: string, reason: ReleaseReason): Promise<void> {
    return this.unitOfWork.run(async (tx) => {
      if (await this.reservations.tombstone(tx, orderId)) return;
      const existing = await this.reservations.lock(tx, orderId);
      if (existing.status === 'RELEASED') return;
      if (existing.status === 'RESERVED') {
        const lines = existing.items;
        // Locked in SKU order first, like a reservation: the two never deadlock.
        await this.stock.lock(
          tx,
          lines.map((l) => l.sku),
        );
        this.stock.adjust(tx, lines, +1);
        this.outbox.add(tx, InventoryReleased, {
          orderId,
          items: lines,
          reason,
          occurredAt: new Date().toISOString(),
        });
      }
      this.reservations.finish(tx, orderId, 'RELEASED');
    });
  }

  private async reserveIn(
    tx: Transaction,
    { orderId, items }: RequestOf<typeof InventoryReserve>,
  ): Promise<ReserveResult> {
    const lines = aggregateLines(items);
    // Sent together (one round trip with BEGIN): the lock queues behind the claim, so a
    // duplicate request takes no stock lock before the first request's transaction ends.
    const claimed = this.reservations.claim(tx, orderId, lines);
    const locked = this.stock.lock(
      tx,
      lines.map((l) => l.sku),
    );
    // Not awaited when the claim fails or finds the order claimed already: its own failure
    // (a deadlock PostgreSQL broke by aborting this transaction, as when a redelivered request
    // meets its first delivery on another replica) must fail the transaction, not the process.
    locked.catch(() => undefined);
    if (!(await claimed)) return this.previousAnswer(tx, orderId);
    const available = await locked;
    const decision = decide(lines, available);
    if (decision.status === 'REJECTED') {
      const result: ReserveResult = { orderId, ...decision };
      this.reservations.finish(tx, orderId, 'REJECTED', result);
      return result;
    }
    this.stock.adjust(tx, lines, -1);
    const result: ReserveResult = { orderId, status: 'RESERVED', items: lines };
    this.reservations.finish(tx, orderId, 'RESERVED', result);
    const occurredAt = new Date().toISOString();
    this.outbox.add(tx, InventoryReserved, { orderId, items: lines, occurredAt });
    for (const line of lines) {
      const before = available.get(line.sku)!;
      if (crossesThreshold(before, line.quantity, this.threshold)) {
        this.outbox.add(tx, InventoryStockLow, {
          sku: line.sku,
          available: before - line.quantity,
          threshold: this.threshold,
          occurredAt,
        });
      }
    }
    return result;
  }

  private async previousAnswer(tx: Transaction, orderId: string): Promise<ReserveResult> {
    const existing = await this.reservations.lock(tx, orderId);
    if (existing.status === 'RELEASED') {
      return { orderId, status: 'REJECTED', reason: 'ORDER_CLOSED', skus: [] };
    }
    return existing.result as ReserveResult;
  }
}
