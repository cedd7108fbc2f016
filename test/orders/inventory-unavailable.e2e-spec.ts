import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { InventoryReserve, InventoryReserved, OrderRejected } from '@app/contracts';
import { eventsQueue, rpcQueue } from '@app/messaging';
import { waitFor } from '@app/messaging/testing';
import { http } from '../support/http.js';
import { TestSystem } from '../support/system.js';

const TIMEOUT_MS = 1_000;

describe('when inventory is not running', () => {
  let system: TestSystem | undefined;

  afterEach(async () => {
    await system?.stop();
    system = undefined;
  });

  const placeOrder = (s: TestSystem, sku: string) =>
    http('POST', s.url('order', '/orders'), {
      customerEmail: 'eve@example.com',
      items: [{ sku, quantity: 2 }],
    });

  it('rejects the order INVENTORY_UNAVAILABLE within the timeout, and the late request never takes stock', async () => {
    system = await TestSystem.start('down', {
      services: ['order', 'inventory'],
      env: { RPC_TIMEOUT_MS: String(TIMEOUT_MS) },
    });
    await http('PUT', system.url('inventory', '/stock/LATE-1'), { available: 10 });
    await system.stopService('inventory'); // its queues stay; the request will wait there

    const started = Date.now();
    const res = await placeOrder(system, 'LATE-1');
    const elapsed = Date.now() - started;

    expect(res.body).toMatchObject({
      status: 'REJECTED',
      rejection: { reason: 'INVENTORY_UNAVAILABLE' },
    });
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1_000);
    await system.probe.next(OrderRejected, { where: (e) => e.orderId === res.body.id });

    // The request outlives nobody: the broker drops it when its expiration passes. Nobody
    // consumes the queue, so its ready count is all it holds.
    const probe = system.probe;
    await waitFor('the expired request to leave inventory.rpc', async () => {
      const queue = await probe.queue(rpcQueue('inventory'));
      return queue.consumers === 0 && queue.ready === 0;
    });

    await system.startService('inventory');
    // order.rejected waited in inventory.events; once handled, the order is closed for good.
    const client = await system.rpcClient();
    const late = await waitFor('inventory to refuse the closed order', async () => {
      const answer = await client.request(InventoryReserve, {
        orderId: res.body.id,
        items: [{ sku: 'LATE-1', quantity: 2 }],
      });
      return answer.status === 'REJECTED' && answer;
    });
    expect(late).toMatchObject({ status: 'REJECTED', reason: 'ORDER_CLOSED' });
    expect((await http('GET', system.url('inventory', '/stock/LATE-1'))).body.available).toBe(10);
    expect(system.probe.all(InventoryReserved, (e) => e.orderId === res.body.id)).toHaveLength(0);
  });

  it('opens the circuit after repeated timeouts, fails fast, and closes it once inventory answers again', async () => {
    system = await TestSystem.start('circuit', {
      services: ['order', 'inventory'],
      env: { RPC_TIMEOUT_MS: '500', RPC_CIRCUIT_FAILURES: '2', RPC_CIRCUIT_COOLDOWN_MS: '1500' },
    });
    const s = system;
    await http('PUT', s.url('inventory', '/stock/CIRCUIT-1'), { available: 10 });
    await s.stopService('inventory');

    const timedOut = [await placeOrder(s, 'CIRCUIT-1'), await placeOrder(s, 'CIRCUIT-1')];
    expect(timedOut.map((r) => r.body.rejection?.reason)).toEqual([
      'INVENTORY_UNAVAILABLE',
      'INVENTORY_UNAVAILABLE',
    ]);
    const ready = await http('GET', s.url('order', '/health/ready'));
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({
      status: 'degraded',
      details: { rpc: { status: 'degraded', inventory: 'open' } },
    });

    const started = Date.now();
    const fast = await placeOrder(s, 'CIRCUIT-1');
    expect(fast.body.rejection?.reason).toBe('INVENTORY_UNAVAILABLE');
    expect(Date.now() - started).toBeLessThan(400); // no request sent, no timeout waited

    await s.startService('inventory');
    const ids = [...timedOut, fast].map((r) => r.body.id as string);
    // After the cool-down one probe goes through; it succeeds and closes the circuit.
    const confirmed = await waitFor(
      'an order to be confirmed again',
      async () => {
        const res = await placeOrder(s, 'CIRCUIT-1');
        return res.body.status === 'CONFIRMED' && res;
      },
      { timeoutMs: 10_000, intervalMs: 300 },
    );
    expect((await http('GET', s.url('order', '/health/ready'))).body.details.rpc).toMatchObject({
      inventory: 'closed',
    });

    // The requests that timed out expired in the broker: none was executed late. Inventory
    // (started after every rejection) has handled each rejection's event by now.
    const [{ rejected }] = await s.query<{ rejected: number }>(
      `select count(*)::int as rejected from orders.orders where status = 'REJECTED'`,
    );
    await s.waitHandled(
      'inventory',
      { queue: eventsQueue('inventory'), type: OrderRejected.name },
      rejected!,
    );
    expect(s.probe.all(InventoryReserved, (e) => ids.includes(e.orderId))).toHaveLength(0);
    expect((await http('GET', s.url('inventory', '/stock/CIRCUIT-1'))).body.available).toBe(10 - 2);
    expect(confirmed.body.items[0].quantity).toBe(2);
  });

  it('rejects at once when no inventory queue exists at all', async () => {
    system = await TestSystem.start('never', {
      services: ['order'],
      env: { RPC_TIMEOUT_MS: '5000' },
    });

    const started = Date.now();
    const res = await placeOrder(system, `SKU-${randomUUID().slice(0, 6).toUpperCase()}`);

    expect(res.body).toMatchObject({
      status: 'REJECTED',
      rejection: { reason: 'INVENTORY_UNAVAILABLE' },
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
