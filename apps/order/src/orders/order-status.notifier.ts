import { EventEmitter } from 'node:events';
import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { fromEvent, type Observable, Subject } from 'rxjs';
import type { Order } from './order.js';

/**
 * In-process news of committed order changes, by order id: OrdersService publishes each
 * settle and cancel after its transaction commits; status streams (GET /orders/:id/events)
 * listen. Other replicas' changes do not pass through here: the streams re-read the row too.
 */
@Injectable()
export class OrderStatusNotifier implements BeforeApplicationShutdown {
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private readonly closing = new Subject<void>();

  publish(order: Order): void {
    this.emitter.emit(order.id, order);
  }

  /** The changes of one order from now on. */
  changes(id: string): Observable<Order> {
    return fromEvent(this.emitter, id, (order: Order) => order);
  }

  /** Emits when the service starts shutting down: streams end, so the server can close. */
  get shutdown(): Observable<void> {
    return this.closing;
  }

  beforeApplicationShutdown(): void {
    this.closing.next();
    this.closing.complete();
  }
}
