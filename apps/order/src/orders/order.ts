import {
  type EventContract,
  OrderCancelled,
  OrderConfirmed,
  OrderCreated,
  type OrderItem,
  OrderRejected,
  type PayloadOf,
  type RejectionReason,
} from '@app/contracts';

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';

export interface Order {
  id: string;
  status: OrderStatus;
  customerEmail: string;
  items: OrderItem[];
  rejection: { reason: RejectionReason; skus: string[] } | null;
  createdAt: string;
  updatedAt: string;
}

/** How a PENDING order ends, decided from inventory's answer (or its absence). */
export type Outcome =
  { status: 'CONFIRMED' } | { status: 'REJECTED'; reason: RejectionReason; skus: string[] };

export class OrderNotFoundError extends Error {
  readonly code = 'ORDER.NOT_FOUND';
  constructor(id: string) {
    super(`Order ${id} does not exist`);
  }
}

export class OrderNotCancellableError extends Error {
  readonly code = 'ORDER.NOT_CANCELLABLE';
  constructor(id: string, status: OrderStatus) {
    super(`Order ${id} is ${status}; only CONFIRMED orders can be cancelled`);
  }
}

export class IdempotencyKeyReusedError extends Error {
  readonly code = 'ORDER.IDEMPOTENCY_KEY_REUSED';
  constructor() {
    super('This Idempotency-Key was already used with a different request body');
  }
}

/**
 * CONFIRMED → CANCELLED. Cancelling a cancelled order changes nothing (`false`);
 * any other state refuses.
 */
export function mustCancel(order: Pick<Order, 'id' | 'status'>): boolean {
  if (order.status === 'CONFIRMED') return true;
  if (order.status === 'CANCELLED') return false;
  throw new OrderNotCancellableError(order.id, order.status);
}

/** An event a change of an order causes: what the outbox stores with the change. */
export interface OrderEvent<C extends EventContract = EventContract> {
  contract: C;
  payload: PayloadOf<C>;
}

function facts(order: Order) {
  return {
    orderId: order.id,
    customerEmail: order.customerEmail,
    items: order.items,
    occurredAt: new Date().toISOString(),
  };
}

/** Stored PENDING → `order.created`. */
export function placedEvent(order: Order): OrderEvent {
  return { contract: OrderCreated, payload: facts(order) };
}

/** PENDING → CONFIRMED (`order.confirmed`) or REJECTED (`order.rejected`, with the reason). */
export function settledEvent(order: Order, outcome: Outcome): OrderEvent {
  if (outcome.status === 'CONFIRMED') return { contract: OrderConfirmed, payload: facts(order) };
  return {
    contract: OrderRejected,
    payload: { ...facts(order), reason: outcome.reason, skus: outcome.skus },
  };
}

/** CONFIRMED → CANCELLED → `order.cancelled` (inventory then releases the stock). */
export function cancelledEvent(order: Order): OrderEvent {
  return { contract: OrderCancelled, payload: facts(order) };
}
