import { createHash, randomUUID } from 'node:crypto';
import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
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
import { OrderStatusNotifier } from './order-status.notifier.js';
import {
  type OrderPage,
  type Owner,
  OrdersRepository,
  type OrdersTx,
} from './orders.repository.js';

export interface PlaceOrder {
  customerEmail: string;
  items: OrderItem[];
  /** The API client placing it: the order is its own (reads, cancels, Idempotency-Key). */
  clientId: string;
}

export interface Placed {
  order: Order;
  /** True when an earlier request with the same Idempotency-Key created it. */
  replayed: boolean;
}

@Injectable()
export class OrdersService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(OrdersService.name);
  private readonly rpcTimeoutMs: number;
  /** Settles running for respond-async requests; shutdown waits for them. */
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly orders: OrdersRepository,
    private readonly outbox: Outbox,
    private readonly inventory: AmqpClient,
    private readonly notifier: OrderStatusNotifier,
    config: ConfigService<OrderConfig, true>,
  ) {
    this.rpcTimeoutMs = config.get('order', { infer: true }).rpcTimeoutMs;
  }

  /**
   * Stores the order PENDING with its `order.created` event, asks inventory to reserve,
   * and settles CONFIRMED or REJECTED with the matching event, each in one transaction.
   */
  async place(input: PlaceOrder, idempotencyKey?: string): Promise<Placed> {
    const accepted = await this.accept(input, idempotencyKey);
    if (accepted.replayed) return accepted;
    return { order: await this.complete(accepted.order), replayed: false };
  }

  /**
   * The first half of `place`: the order stored PENDING with its `order.created` event, or
   * the earlier order of the same Idempotency-Key (`replayed`). `complete` is the second half.
   */
  async accept(input: PlaceOrder, idempotencyKey?: string): Promise<Placed> {
    const requestHash = hashRequest(input);
    if (idempotencyKey) {
      const earlier = await this.replay(input.clientId, idempotencyKey, requestHash);
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
        (await this.replay(input.clientId, idempotencyKey, requestHash));
      if (earlier) return earlier;
      throw error;
    }
    return { order, replayed: false };
  }

  /**
   * The second half of `place`: asks inventory to reserve and settles the order CONFIRMED or
   * REJECTED. Returns the order as it is then (settled meanwhile by the sweeper, maybe).
   */
  async complete(order: Order): Promise<Order> {
    const outcome = await this.reserveStock(order);
    const settled = await this.settle(order.id, outcome);
    if (settled) this.logger.log(`Order ${order.id} ${describeOutcome(outcome)}`);
    return settled ?? (await this.orders.find(order.id)) ?? order;
  }

  /**
   * `complete` with nobody waiting (POST /orders with Prefer: respond-async): a failure is
   * logged, and the stale-order sweeper still rejects an order left PENDING. Shutdown waits
   * for the ones in flight.
   */
  completeInBackground(order: Order): void {
    const run = this.complete(order).then(
      () => undefined,
      (error: unknown) =>
        this.logger.error(
          `Order ${order.id}: settling in the background failed (${describeError(error)}); the stale-order sweeper rejects it if it stays PENDING`,
        ),
    );
    this.background.add(run);
    void run.finally(() => this.background.delete(run));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.background);
  }

  /** Another client's order is not found: its existence is not the caller's business. */
  async get(id: string, owner: Owner): Promise<Order> {
    const order = await this.orders.find(id, owner);
    if (!order) throw new OrderNotFoundError(id);
    return order;
  }

  list(
    filter: { status?: OrderStatus; limit: number; cursor?: string },
    owner: Owner,
  ): Promise<OrderPage> {
    return this.orders.list(filter, owner);
  }

  /** CONFIRMED → CANCELLED with `order.cancelled` (inventory then releases the stock). */
  async cancel(id: string, owner: Owner): Promise<Order> {
    const order = await this.outbox.transaction(async (trx: OrdersTx) => {
      const order = await this.orders.findForUpdate(trx, id, owner);
      if (!order) throw new OrderNotFoundError(id);
      if (!mustCancel(order)) return order;
      const cancelled = await this.orders.setStatus(trx, id, 'CANCELLED');
      await this.outbox.add(trx, OrderCancelled, eventFacts(cancelled));
      return cancelled;
    });
    this.notifier.publish(order);
    return order;
  }

  /**
   * Settles PENDING orders that outlived their request (the process died between storing
   * and settling them): REJECTED / INVENTORY_UNAVAILABLE, which also makes inventory
   * release anything it may hold for them. Returns how many it settled.
   */
  async rejectStalePending(olderThanMs: number, limit = 100): Promise<number> {
    const settled = await this.outbox.transaction(async (trx: OrdersTx) => {
      const stale = await this.orders.lockStalePending(trx, olderThanMs, limit);
      const rejected: Order[] = [];
      for (const order of stale) {
        const settled = await this.settleIn(trx, order.id, {
          status: 'REJECTED',
          reason: 'INVENTORY_UNAVAILABLE',
          skus: [],
        });
        if (settled) rejected.push(settled);
      }
      return rejected;
    });
    for (const order of settled) this.notifier.publish(order);
    return settled.length;
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

  /** Settles in one transaction; status streams hear of it once it is committed. */
  private async settle(id: string, outcome: Outcome): Promise<Order | undefined> {
    const settled = await this.outbox.transaction((trx: OrdersTx) =>
      this.settleIn(trx, id, outcome),
    );
    if (settled) this.notifier.publish(settled);
    return settled;
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

  private async replay(
    clientId: string,
    key: string,
    requestHash: string,
  ): Promise<Placed | undefined> {
    const earlier = await this.orders.findByIdempotencyKey(clientId, key);
    if (!earlier) return undefined;
    if (earlier.requestHash !== requestHash) throw new IdempotencyKeyReusedError();
    return { order: earlier.order, replayed: true };
  }
}

function describeOutcome(outcome: Outcome): string {
  return outcome.status === 'CONFIRMED' ? 'confirmed' : `rejected: ${outcome.reason}`;
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
