import { createHash, randomUUID } from 'node:crypto';
import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InventoryReserve, type OrderItem } from '@app/contracts';
import { type Transaction, UnitOfWork } from '@app/database';
import { AmqpClient, describeError } from '@app/messaging';
import { Outbox } from '@app/outbox';
import { BackgroundTasks } from '@app/platform';
import {
  cancelledEvent,
  IdempotencyKeyReusedError,
  mustCancel,
  type Order,
  type OrderEvent,
  OrderNotFoundError,
  type OrderStatus,
  type Outcome,
  placedEvent,
  settledEvent,
} from './order.js';
import { OrderStatusNotifier } from './order-status.notifier.js';
import { type OrderPage, type Owner, OrdersRepository } from './orders.repository.js';

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

/** The order use cases: each change in one unit of work, with the event it causes. */
@Injectable()
export class OrdersService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(OrdersService.name);
  /** Settles running for respond-async requests; shutdown waits for them. */
  private readonly background = new BackgroundTasks((error, orderId) =>
    this.logger.error(
      `Order ${orderId}: settling in the background failed (${describeError(error)}); the stale-order sweeper rejects it if it stays PENDING`,
    ),
  );

  constructor(
    private readonly orders: OrdersRepository,
    private readonly unitOfWork: UnitOfWork,
    private readonly outbox: Outbox,
    private readonly inventory: AmqpClient,
    private readonly notifier: OrderStatusNotifier,
  ) {}

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
    // Only a key's later requests are compared with the first: no key, nothing to hash.
    const requestHash = idempotencyKey ? hashRequest(input) : null;
    if (idempotencyKey) {
      const earlier = await this.replay(input.clientId, idempotencyKey, requestHash!);
      if (earlier) return earlier;
    }
    const order = await this.unitOfWork.run(async (tx) => {
      const created = await this.orders.insertPending(tx, {
        id: randomUUID(),
        ...input,
        idempotencyKey,
        requestHash,
      });
      if (created) this.record(tx, created, placedEvent(created));
      return created;
    });
    if (order) return { order, replayed: false };
    // Another request with this key got in first (it waited for that one to commit).
    const earlier = await this.replay(input.clientId, idempotencyKey!, requestHash!);
    if (!earlier) throw new Error(`Idempotency-Key ${idempotencyKey} refused, yet no order has it`);
    return earlier;
  }

  /**
   * The second half of `place`: asks inventory to reserve and settles the order CONFIRMED or
   * REJECTED. Returns the order as it is then (settled meanwhile by the sweeper, maybe).
   */
  async complete(order: Order): Promise<Order> {
    const outcome = await this.reserveStock(order);
    const settled = await this.unitOfWork.run((tx) => this.settleIn(tx, order.id, outcome));
    if (settled) this.logger.log(`Order ${order.id} ${describeOutcome(outcome)}`);
    return settled ?? (await this.orders.find(order.id)) ?? order;
  }

  /**
   * `complete` with nobody waiting (POST /orders with Prefer: respond-async): a failure is
   * logged, and the stale-order sweeper still rejects an order left PENDING. Shutdown waits
   * for the ones in flight.
   */
  completeInBackground(order: Order): void {
    this.background.start(order.id, () => this.complete(order));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.background.drain();
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
  cancel(id: string, owner: Owner): Promise<Order> {
    return this.unitOfWork.run(async (tx) => {
      const order = await this.orders.findForUpdate(tx, id, owner);
      if (!order) throw new OrderNotFoundError(id);
      if (!mustCancel(order)) return order;
      const cancelled = await this.orders.setStatus(tx, id, 'CANCELLED');
      this.record(tx, cancelled, cancelledEvent(cancelled));
      return cancelled;
    });
  }

  /**
   * Settles PENDING orders that outlived their request (the process died between storing
   * and settling them): REJECTED / INVENTORY_UNAVAILABLE, which also makes inventory
   * release anything it may hold for them. Returns how many it settled.
   */
  rejectStalePending(olderThanMs: number, limit = 100): Promise<number> {
    const unavailable: Outcome = { status: 'REJECTED', reason: 'INVENTORY_UNAVAILABLE', skus: [] };
    return this.unitOfWork.run(async (tx) => {
      const stale = await this.orders.lockStalePending(tx, olderThanMs, limit);
      let settled = 0;
      for (const order of stale) if (await this.settleIn(tx, order.id, unavailable)) settled++;
      return settled;
    });
  }

  private async reserveStock(order: Order): Promise<Outcome> {
    try {
      // Times out after RPC_TIMEOUT_MS, the client's default (also the request's expiration).
      const answer = await this.inventory.request(InventoryReserve, {
        orderId: order.id,
        items: order.items,
      });
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

  /** Undefined if the order had settled already (e.g. by the stale-order sweeper). */
  private async settleIn(
    tx: Transaction,
    id: string,
    outcome: Outcome,
  ): Promise<Order | undefined> {
    const settled = await this.orders.settle(tx, id, outcome);
    if (settled) this.record(tx, settled, settledEvent(settled, outcome));
    return settled;
  }

  /** The change's event goes into the outbox with it; status streams hear of it on commit. */
  private record(tx: Transaction, order: Order, event: OrderEvent): void {
    this.outbox.add(tx, event.contract, event.payload);
    tx.afterCommit(() => this.notifier.publish(order));
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

/** Same body, same hash: field order and whitespace do not matter. */
function hashRequest(input: PlaceOrder): string {
  const canonical = JSON.stringify({
    customerEmail: input.customerEmail,
    items: input.items.map(({ sku, quantity }) => ({ sku, quantity })),
  });
  return createHash('sha256').update(canonical).digest('hex');
}
