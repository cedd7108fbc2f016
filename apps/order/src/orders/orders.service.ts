import { createHash, randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  InventoryReserve,
  OrderCancelled,
  OrderConfirmed,
  OrderCreated,
  type OrderItem,
  OrderRejected,
} from '@app/contracts';
import { AmqpClient, describeError, Outbox } from '@app/messaging';
import type { OrderConfig } from '../order.config.js';
import {
  IdempotencyKeyReusedError,
  mustCancel,
  type Order,
  OrderNotFoundError,
  type OrderStatus,
  type Outcome,
} from './order.js';
import { type OrderPage, OrdersRepository, type OrdersTx } from './orders.repository.js';

export interface PlaceOrder {
  customerEmail: string;
  items: OrderItem[];
}

export interface Placed {
  order: Order;
  /** True when an earlier request with the same Idempotency-Key created it. */
  replayed: boolean;
}

@Injectable()
export class OrdersService {
  private readonly logger = new Logger(OrdersService.name);
  private readonly rpcTimeoutMs: number;

  constructor(
    private readonly orders: OrdersRepository,
    private readonly outbox: Outbox,
    private readonly inventory: AmqpClient,
    config: ConfigService<OrderConfig, true>,
  ) {
    this.rpcTimeoutMs = config.get('order', { infer: true }).rpcTimeoutMs;
  }

  /**
   * Stores the order PENDING with its `order.created` event, asks inventory to reserve,
   * and settles CONFIRMED or REJECTED with the matching event, each in one transaction.
   */
  async place(input: PlaceOrder, idempotencyKey?: string): Promise<Placed> {
    const requestHash = hashRequest(input);
    if (idempotencyKey) {
      const earlier = await this.replay(idempotencyKey, requestHash);
      if (earlier) return earlier;
    }
    let order: Order;
    try {
      order = await this.outbox.transaction(async (trx: OrdersTx) => {
        const created = await this.orders.insertPending(trx, {
          id: randomUUID(),
          ...input,
          idempotencyKey,
          requestHash,
        });
        await this.outbox.add(trx, OrderCreated, eventFacts(created));
        return created;
      });
    } catch (error) {
      // Two requests raced with the same key: the unique index let one in; answer as it did.
      const earlier =
        idempotencyKey &&
        isUniqueViolation(error) &&
        (await this.replay(idempotencyKey, requestHash));
      if (earlier) return earlier;
      throw error;
    }
    const outcome = await this.reserveStock(order);
    return { order: (await this.settle(order.id, outcome)) ?? order, replayed: false };
  }

  async get(id: string): Promise<Order> {
    const order = await this.orders.find(id);
    if (!order) throw new OrderNotFoundError(id);
    return order;
  }

  list(filter: { status?: OrderStatus; limit: number; cursor?: string }): Promise<OrderPage> {
    return this.orders.list(filter);
  }

  /** CONFIRMED → CANCELLED with `order.cancelled` (inventory then releases the stock). */
  cancel(id: string): Promise<Order> {
    return this.outbox.transaction(async (trx: OrdersTx) => {
      const order = await this.orders.findForUpdate(trx, id);
      if (!order) throw new OrderNotFoundError(id);
      if (!mustCancel(order)) return order;
      const cancelled = await this.orders.setStatus(trx, id, 'CANCELLED');
      await this.outbox.add(trx, OrderCancelled, eventFacts(cancelled));
      return cancelled;
    });
  }

  /**
   * Settles PENDING orders that outlived their request (the process died between storing
   * and settling them): REJECTED / INVENTORY_UNAVAILABLE, which also makes inventory
   * release anything it may hold for them. Returns how many it settled.
   */
  rejectStalePending(olderThanMs: number, limit = 100): Promise<number> {
    return this.outbox.transaction(async (trx: OrdersTx) => {
      const stale = await this.orders.lockStalePending(trx, olderThanMs, limit);
      for (const order of stale) {
        await this.settleIn(trx, order.id, {
          status: 'REJECTED',
          reason: 'INVENTORY_UNAVAILABLE',
          skus: [],
        });
      }
      return stale.length;
    });
  }

  private async reserveStock(order: Order): Promise<Outcome> {
    try {
      const answer = await this.inventory.request(
        InventoryReserve,
        { orderId: order.id, items: order.items },
        { timeoutMs: this.rpcTimeoutMs },
      );
      if (answer.status === 'RESERVED') return { status: 'CONFIRMED' };
      if (answer.reason === 'ORDER_CLOSED') {
        return { status: 'REJECTED', reason: 'INVENTORY_UNAVAILABLE', skus: [] };
      }
      return { status: 'REJECTED', reason: answer.reason, skus: answer.skus };
    } catch (error) {
      this.logger.warn(`Order ${order.id}: inventory unavailable (${describeError(error)})`);
      return { status: 'REJECTED', reason: 'INVENTORY_UNAVAILABLE', skus: [] };
    }
  }

  private settle(id: string, outcome: Outcome): Promise<Order | undefined> {
    return this.outbox.transaction((trx: OrdersTx) => this.settleIn(trx, id, outcome));
  }

  private async settleIn(trx: OrdersTx, id: string, outcome: Outcome): Promise<Order | undefined> {
    const settled = await this.orders.settle(trx, id, outcome);
    if (!settled) return undefined; // settled already (e.g. by the stale-order sweeper)
    if (outcome.status === 'CONFIRMED') {
      await this.outbox.add(trx, OrderConfirmed, eventFacts(settled));
    } else {
      await this.outbox.add(trx, OrderRejected, {
        ...eventFacts(settled),
        reason: outcome.reason,
        skus: outcome.skus,
      });
    }
    return settled;
  }

  private async replay(key: string, requestHash: string): Promise<Placed | undefined> {
    const earlier = await this.orders.findByIdempotencyKey(key);
    if (!earlier) return undefined;
    if (earlier.requestHash !== requestHash) throw new IdempotencyKeyReusedError();
    return { order: earlier.order, replayed: true };
  }
}

function eventFacts(order: Order) {
  return {
    orderId: order.id,
    customerEmail: order.customerEmail,
    items: order.items,
    occurredAt: new Date().toISOString(),
  };
}

/** Same body, same hash: field order and whitespace do not matter. */
function hashRequest(input: PlaceOrder): string {
  const canonical = JSON.stringify({
    customerEmail: input.customerEmail,
    items: input.items.map(({ sku, quantity }) => ({ sku, quantity })),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}
