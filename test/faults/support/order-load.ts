import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '@app/messaging/testing';

export interface OrderLoadOptions {
  /** Orders to try at most: the load is bounded whatever the fault does. */
  max?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Pause of a worker after a confirmed order (sets the rate while all is well). */
  paceMs?: number;
  /** Pause after a rejected or failed order, so an outage does not burn the whole budget. */
  backoffMs?: number;
  requestTimeoutMs?: number;
}

export interface AcceptedOrder {
  id: string;
  quantity: number;
  /** The status in the 201 response (CONFIRMED or REJECTED, as the request ended). */
  status: string;
  /** When the request was sent and when its response came (ms since the epoch). */
  sentAt: number;
  answeredAt: number;
}

/**
 * A steady trickle of `POST /orders` for one SKU, running until stopped or `max` orders were
 * tried. Accepted orders (201) are what the invariants follow; failures are only counted.
 */
export class OrderLoad {
  readonly accepted: AcceptedOrder[] = [];
  readonly failures: string[] = [];
  private attempted = 0;
  private stopped = false;
  private readonly workers: Promise<void>[];
  private readonly options: Required<OrderLoadOptions>;

  constructor(
    private readonly ordersUrl: string,
    private readonly sku: string,
    options: OrderLoadOptions = {},
  ) {
    this.options = {
      // A bound, not a target: a case on a busy machine takes longer and places more orders.
      max: 200,
      concurrency: 2,
      paceMs: 150,
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
      const quantity = 1 + (n % 3);
      const confirmed = await this.place(n, quantity);
      await delay(confirmed ? this.options.paceMs : this.options.backoffMs);
    }
  }

  private async place(n: number, quantity: number): Promise<boolean> {
    const sentAt = Date.now();
    try {
      const res = await fetch(this.ordersUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          customerEmail: `buyer${n}@example.com`,
          items: [{ sku: this.sku, quantity }],
        }),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      const body = (await res.json().catch(() => ({}))) as { id?: string; status?: string };
      if (res.status === 201 && body.id) {
        const status = body.status ?? '';
        this.accepted.push({ id: body.id, quantity, status, sentAt, answeredAt: Date.now() });
        return body.status === 'CONFIRMED';
      }
      this.failures.push(`HTTP ${res.status}`);
    } catch (error) {
      this.failures.push((error as Error).message);
    }
    return false;
  }
}
