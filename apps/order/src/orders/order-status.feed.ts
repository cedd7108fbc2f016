import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  catchError,
  concat,
  distinctUntilChanged,
  EMPTY,
  filter,
  finalize,
  from,
  interval,
  merge,
  type Observable,
  of,
  share,
  switchMap,
  takeUntil,
  takeWhile,
  timer,
} from 'rxjs';
import type { OrderConfig } from '../order.config.js';
import type { Order } from './order.js';
import { OrderStatusNotifier } from './order-status.notifier.js';
import { OrdersRepository } from './orders.repository.js';

/** How often an order followed by status streams is re-read (changes made by other replicas). */
export const STATUS_POLL_MS = 1_000;

/** A client asked for more status streams at once than it may hold. */
export class TooManyStreamsError extends Error {
  readonly code = 'ORDER.TOO_MANY_STREAMS';
  constructor(max: number) {
    super(`At most ${max} order status streams may be open at once per client`);
  }
}

/**
 * The status streams of GET /orders/:id/events: each order's changes as they commit here
 * (OrderStatusNotifier) and as one shared re-read per order id every STATUS_POLL_MS (another
 * replica's changes), however many streams follow it. A client holds at most
 * `maxStreamsPerClient` streams at once, and each ends after `maxLifetimeMs`.
 */
@Injectable()
export class OrderStatusFeed {
  private readonly polls = new Map<string, Observable<Order>>();
  private readonly open = new Map<string, number>();
  private readonly maxStreamsPerClient: number;
  private readonly maxLifetimeMs: number;

  constructor(
    private readonly orders: OrdersRepository,
    private readonly notifier: OrderStatusNotifier,
    config: ConfigService<OrderConfig, true>,
  ) {
    ({ maxStreamsPerClient: this.maxStreamsPerClient, maxLifetimeMs: this.maxLifetimeMs } =
      config.get('order', { infer: true }).statusStreams);
  }

  /**
   * `order` (as just read), then each change of its status until it leaves PENDING; ends at
   * once for a settled order, at its lifetime, and when the service shuts down. Throws
   * TooManyStreamsError when `clientId` holds its maximum already.
   */
  follow(order: Order, clientId: string): Observable<Order> {
    if (order.status !== 'PENDING') return of(order);
    const held = this.open.get(clientId) ?? 0;
    if (held >= this.maxStreamsPerClient) throw new TooManyStreamsError(this.maxStreamsPerClient);
    this.open.set(clientId, held + 1);
    return concat(of(order), merge(this.notifier.changes(order.id), this.reread(order.id))).pipe(
      distinctUntilChanged((a, b) => a.status === b.status),
      takeWhile((o) => o.status === 'PENDING', true),
      takeUntil(merge(this.notifier.shutdown, timer(this.maxLifetimeMs))),
      finalize(() => this.release(clientId)),
    );
  }

  /** Streams open now, by client (for tests and metrics). */
  openStreams(clientId: string): number {
    return this.open.get(clientId) ?? 0;
  }

  private release(clientId: string): void {
    const held = (this.open.get(clientId) ?? 1) - 1;
    if (held > 0) this.open.set(clientId, held);
    else this.open.delete(clientId);
  }

  /** One poll per order id, shared by its streams, gone with the last of them. */
  private reread(id: string): Observable<Order> {
    let poll = this.polls.get(id);
    if (!poll) {
      poll = interval(STATUS_POLL_MS).pipe(
        switchMap(() => from(this.orders.find(id)).pipe(catchError(() => EMPTY))),
        filter((o): o is Order => o !== undefined),
        finalize(() => this.polls.delete(id)),
        share(),
      );
      this.polls.set(id, poll);
    }
    return poll;
  }
}
