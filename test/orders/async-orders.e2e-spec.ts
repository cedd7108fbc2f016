import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { OrderConfirmed } from '@app/contracts';
import { waitFor } from '@app/messaging/testing';
import { http } from '../support/http.js';
import { openSse } from '../support/sse.js';
import { TestSystem } from '../support/system.js';

const ASYNC = { Prefer: 'respond-async' };

describe('POST /orders with Prefer: respond-async', () => {
  let system: TestSystem;

  beforeAll(async () => {
    // Long enough for a request to wait in inventory.rpc while inventory restarts.
    system = await TestSystem.start('async-orders', { env: { RPC_TIMEOUT_MS: '20000' } });
  });

  afterAll(() => system?.stop());

  const stock = (available: number) => system.stockNewSku(available, 'ASYNC');

  const placeAsync = (sku: string, headers: Record<string, string> = {}) =>
    http(
      'POST',
      system.url('order', '/orders'),
      { customerEmail: 'ada@example.com', items: [{ sku, quantity: 1 }] },
      { ...ASYNC, ...headers },
    );

  it('answers 202 with Location and the PENDING order, which then settles CONFIRMED', async () => {
    const sku = await stock(5);
    const res = await placeAsync(sku, { 'X-Request-Id': 'req-async-1' });

    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'PENDING', items: [{ sku, quantity: 1 }] });
    expect(res.headers.get('location')).toBe(`/orders/${res.body.id}`);
    expect(res.headers.get('preference-applied')).toBe('respond-async');

    const settled = await waitFor('the order to be CONFIRMED', async () => {
      const order = await http('GET', system.url('order', res.headers.get('location')!));
      return order.body.status === 'CONFIRMED' && order.body;
    });
    expect(settled.id).toBe(res.body.id);
    expect((await http('GET', system.url('inventory', `/stock/${sku}`))).body.available).toBe(4);
    // Settled after the response, still in the request's context.
    const confirmed = await system.probe.next(OrderConfirmed, {
      where: (e) => e.orderId === res.body.id,
    });
    expect(confirmed.correlationId).toBe('req-async-1');
  });

  it('answers a repeated Idempotency-Key with the same order, settling it once', async () => {
    const sku = await stock(5);
    const key = randomUUID();
    const first = await placeAsync(sku, { 'Idempotency-Key': key });
    const again = await placeAsync(sku, { 'Idempotency-Key': key });

    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await waitFor('the order to be CONFIRMED', async () => {
      const order = await http('GET', system.url('order', `/orders/${first.body.id}`));
      return order.body.status === 'CONFIRMED';
    });
    expect((await http('GET', system.url('inventory', `/stock/${sku}`))).body.available).toBe(4);
  });

  it('streams PENDING then CONFIRMED as server-sent events, and ends the stream', async () => {
    const sku = await stock(5);
    // Inventory away: the request waits in its queue, so the order stays PENDING meanwhile.
    await system.stopService('inventory');
    const placed = await placeAsync(sku);
    expect(placed.status).toBe(202);

    const stream = await openSse(system.url('order', `/orders/${placed.body.id}/events`));
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const first = await stream.events.next();
    expect(first.value).toMatchObject({ id: placed.body.id, status: 'PENDING' });

    await system.startService('inventory');
    const rest: any[] = [];
    for await (const order of stream.events) rest.push(order);

    expect(rest.map((o) => o.status)).toEqual(['CONFIRMED']);
    expect(rest[0]).toMatchObject({ id: placed.body.id, rejection: null });
  });

  it('sees a change another replica committed, by re-reading the order', async () => {
    const sku = await stock(5);
    await system.stopService('inventory');
    const placed = await placeAsync(sku);
    const stream = await openSse(system.url('order', `/orders/${placed.body.id}/events`));
    expect((await stream.events.next()).value.status).toBe('PENDING');

    // As another replica (its sweeper, say) would: straight in the database, no notifier here.
    const db = new pg.Client({ connectionString: system.env.DATABASE_URL });
    await db.connect();
    try {
      await db.query(
        `update orders.orders set status = 'REJECTED', rejection_reason = 'INVENTORY_UNAVAILABLE',
         rejected_skus = '[]' where id = $1`,
        [placed.body.id],
      );
    } finally {
      await db.end();
    }
    const rest: any[] = [];
    for await (const order of stream.events) rest.push(order);

    expect(rest).toEqual([
      expect.objectContaining({
        status: 'REJECTED',
        rejection: { reason: 'INVENTORY_UNAVAILABLE', skus: [] },
      }),
    ]);
    await system.startService('inventory');
  });

  it('streams a settled order’s state once and ends; 404 for an unknown order', async () => {
    const sku = await stock(0);
    const rejected = await http('POST', system.url('order', '/orders'), {
      customerEmail: 'ada@example.com',
      items: [{ sku, quantity: 1 }],
    });
    expect(rejected.body.status).toBe('REJECTED');

    const stream = await openSse(system.url('order', `/orders/${rejected.body.id}/events`));
    const events: any[] = [];
    for await (const order of stream.events) events.push(order);
    expect(events.map((o) => o.status)).toEqual(['REJECTED']);

    const missing = await http('GET', system.url('order', `/orders/${randomUUID()}/events`));
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404, error: 'ORDER.NOT_FOUND' });
  });
});
