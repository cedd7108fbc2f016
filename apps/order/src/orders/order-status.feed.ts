import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  concat,
  distinctUntilChanged,
  finalize,
  merge,
  Observable,
  of,
  type Subscriber,
  takeUntil,
  takeWhile,
  timer,
} from 'rxjs';
import type { OrderConfig } from '../order.config.js';
import type { Order } from './order.js';
import { OrderStatusNotifier } from './order-status.notifier.js';
import { OrdersRepository } from './orders.repository.js';

/** How often the orders followed by status streams are re-read (changes made by other replicas). */
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
 * (OrderStatusNotifier, told after the commit) and as the process's one re-read of every
 * followed order each STATUS_POLL_MS (another replica's changes), however many streams follow
 * them. A client holds at most `maxStreamsPerClient` streams at once, and each ends after
 * `maxLifetimeMs`.
 */
@Injectable()
export class OrderStatusFeed {
  /** The streams (their re-read side) of each order followed in this process. */
  private readonly followed = new Map<string, Set<Subscriber<Order>>>();
  private poll: NodeJS.Timeout | undefined;
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

  /**
   * The order as re-read by the process's one poll: every STATUS_POLL_MS, one query for all
   * the orders followed here (changes made by other replicas), however many streams follow
   * them; the poll stops with the last stream.
   */
  private reread(id: string): Observable<Order> {
    return new Observable<Order>((subscriber) => {
      let followers = this.followed.get(id);
      if (!followers) this.followed.set(id, (followers = new Set()));
      followers.add(subscriber);
      this.poll ??= setInterval(() => void this.rereadAll(), STATUS_POLL_MS);
      return () => {
        followers.delete(subscriber);
        if (followers.size === 0) this.followed.delete(id);
        if (this.followed.size === 0) {
          clearInterval(this.poll);
          this.poll = undefined;
        }
      };
    });
  }

  private async rereadAll(): Promise<void> {
    let orders: Order[];
    try {
      orders = await this.orders.findMany([...this.followed.keys()]);
    } catch {
      return; // the next tick tries again; the in-process notifier still works
    }
    for (const order of orders) {
      for (const follower of this.followed.get(order.id) ?? []) follower.next(order);
    }
  }
}
