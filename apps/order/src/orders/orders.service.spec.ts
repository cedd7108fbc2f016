import { describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Order } from './order.js';
import { pendingOrder } from './order.fixture.js';
import { OrderStatusNotifier } from './order-status.notifier.js';
import { prefersAsync } from './orders.http.controller.js';
import { OrdersService } from './orders.service.js';

const pending = pendingOrder;

/** An OrdersService whose inventory answers RESERVED and whose transactions run `commit`. */
function service(commit: () => Promise<unknown>, find = async (): Promise<Order> => pending) {
  const notifier = new OrderStatusNotifier();
  const unitOfWork = { run: () => commit() };
  const outbox = { add: () => undefined };
  const inventory = { request: async () => ({ status: 'RESERVED' }) };
  const orders = new OrdersService(
    { find } as never,
    unitOfWork as never,
    outbox as never,
    inventory as never,
    notifier,
  );
  return { orders, notifier };
}

describe('OrdersService.completeInBackground', () => {
  it('logs a failed settle instead of rejecting, and shutdown waits for it', async () => {
    const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    let fail!: (error: Error) => void;
    const { orders } = service(() => new Promise((_, reject) => (fail = reject)));

    orders.completeInBackground(pending);
    const shutdown = orders.beforeApplicationShutdown();
    let shutDown = false;
    void shutdown.then(() => (shutDown = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(shutDown).toBe(false);

    fail(new Error('database gone'));
    await shutdown;
    expect(error).toHaveBeenCalledWith(expect.stringContaining('database gone'));
    expect(error.mock.calls[0]![0]).toContain(pending.id);
    error.mockRestore();
  });
});

describe('prefersAsync', () => {
  it.each([
    ['respond-async', true],
    ['Respond-Async', true],
    ['wait=10, respond-async', true],
    ['respond-async; foo=bar', true],
    ['return=minimal', false],
    ['respond-asynchronously', false],
    [undefined, false],
  ])('reads Prefer: %s as %s', (prefer, expected) => {
    expect(prefersAsync(prefer)).toBe(expected);
  });
});
