import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '@app/messaging/testing';
import { http } from '../../support/http.js';

export interface OrderLoadOptions {
  /** Orders to try at most: the load is bounded whatever the fault does. */
  max?: number;
  /** Clients, each with one request in flight at a time. */
  concurrency?: number;
  /** Pause of a client after an answer (sets the rate while all is well). */
  paceMs?: number;
  /** Pause after a failed request or an INVENTORY_UNAVAILABLE rejection (an outage). */
  backoffMs?: number;
  requestTimeoutMs?: number;
}

export interface OrderLine {
  sku: string;
  quantity: number;
}

export interface AcceptedOrder {
  id: string;
  items: OrderLine[];
  /** The status in the 201 response (CONFIRMED or REJECTED, as the request ended). */
  status: string;
  reason?: string;
  /** When the request was sent and when its response came (ms since the epoch). */
  sentAt: number;
  answeredAt: number;
}

export interface FailedRequest {
  what: string;
  sentAt: number;
  failedAt: number;
}

/**
 * Clients placing `POST /orders` until stopped or `max` orders were tried: each order has one
 * to all of `skus`, in random order (so two orders can lock the same rows in opposite
 * orders), 1–3 units each. Accepted orders (201) are what the invariants follow; failed
 * requests are kept with their times, to check they all fell inside a fault.
 */
export class OrderLoad {
  readonly accepted: AcceptedOrder[] = [];
  readonly failures: FailedRequest[] = [];
  private attempted = 0;
  private stopped = false;
  private readonly workers: Promise<void>[];
  private readonly options: Required<OrderLoadOptions>;

  constructor(
    private readonly ordersUrl: string,
    private readonly skus: readonly string[],
    options: OrderLoadOptions = {},
  ) {
    this.options = {
      // A bound, not a target: a case on a busy machine takes longer and places more orders.
      max: 600,
      concurrency: 8,
      paceMs: 400,
      backoffMs: 1_000,
      requestTimeoutMs: 20_000,
      ...options,
    };
    this.workers = Array.from({ length: this.options.concurrency }, () => this.work());
  }

  /** Waits until `count` more orders than now have been confirmed (the whole flow works). */
  async waitForConfirmed(count: number, timeoutMs = 30_000): Promise<void> {
    const confirmed = () => this.accepted.filter((o) => o.status === 'CONFIRMED').length;
    const target = confirmed() + count;
    await waitFor(
      `${count} more confirmed orders`,
      () => {
        if (confirmed() >= target) return true;
        if (this.attempted >= this.options.max) throw new Error('the load ran out of orders');
        return false;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  /** Stops placing orders and waits for the requests in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    while (!this.stopped && this.attempted < this.options.max) {
      const n = ++this.attempted;
      const healthy = await this.place(n, this.lines());
      await delay(healthy ? this.options.paceMs : this.options.backoffMs);
    }
  }

  /** 1 to all of the SKUs, shuffled, 1–3 units each. */
  private lines(): OrderLine[] {
    const shuffled = [...this.skus];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    return shuffled
      .slice(0, 1 + randomInt(shuffled.length))
      .map((sku) => ({ sku, quantity: 1 + randomInt(3) }));
  }

  /** Places one order; false when the system looked unhealthy (back off). */
  private async place(n: number, items: OrderLine[]): Promise<boolean> {
    const sentAt = Date.now();
    try {
      const res = await http<{ id?: string; status?: string; rejection?: { reason?: string } }>(
        'POST',
        this.ordersUrl,
        { customerEmail: `buyer${n}@example.com`, items },
        {},
        AbortSignal.timeout(this.options.requestTimeoutMs),
      );
      if (res.status === 201 && res.body?.id) {
        const { id, status = '', rejection } = res.body;
        const reason = rejection?.reason;
        this.accepted.push({ id, items, status, reason, sentAt, answeredAt: Date.now() });
        return reason !== 'INVENTORY_UNAVAILABLE';
      }
      this.failures.push({ what: `HTTP ${res.status}`, sentAt, failedAt: Date.now() });
    } catch (error) {
      this.failures.push({ what: (error as Error).message, sentAt, failedAt: Date.now() });
    }
    return false;
  }
}
