import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  InventoryReleased,
  InventoryStockLow,
  InventoryReserve,
  OrderCancelled,
  OrderConfirmed,
  OrderCreated,
  OrderRejected,
} from '@app/contracts';
import { eventsQueue } from '@app/messaging';
import { http } from '../support/http.js';
import { TestSystem } from '../support/system.js';

describe('the order flow', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start('flow');
  });

  afterAll(() => system?.stop());

  /** Each test stocks its own SKUs, so tests never share state. */
  const stock = (available: number) => system.stockNewSku(available);

  const available = async (sku: string) =>
    (await http('GET', system.url('inventory', `/stock/${sku}`))).body.available;

  const placeOrder = (
    items: { sku: string; quantity: number }[],
    headers: Record<string, string> = {},
    email = 'ada@example.com',
  ) => http('POST', system.url('order', '/orders'), { customerEmail: email, items }, headers);

  it('confirms an order, takes the stock, publishes order.confirmed and e-mails the customer', async () => {
    const sku = await stock(10);
    const res = await placeOrder([{ sku, quantity: 3 }], { 'X-Request-Id': 'req-happy-1' });

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'CONFIRMED',
      customerEmail: 'ada@example.com',
      rejection: null,
    });
    expect(res.headers.get('location')).toBe(`/orders/${res.body.id}`);
    expect(await available(sku)).toBe(7);

    const created = await system.probe.next(OrderCreated, {
      where: (e) => e.orderId === res.body.id,
    });
    const confirmed = await system.probe.next(OrderConfirmed, {
      where: (e) => e.orderId === res.body.id,
    });
    expect(confirmed.body.items).toEqual([{ sku, quantity: 3 }]);
    // The request id travels as correlation_id on every event the request causes.
    expect(created.correlationId).toBe('req-happy-1');
    expect(confirmed.correlationId).toBe('req-happy-1');
    expect(confirmed.headers['x-message-version']).toBe(1);

    const mail = await system.smtp.waitForMail('ada@example.com', `Order ${res.body.id} confirmed`);
    expect(mail.text).toContain(`3 × ${sku}`);
    const notifications = await http(
      'GET',
      system.url('notification', `/notifications?orderId=${res.body.id}`),
    );
    expect(notifications.body).toEqual([
      expect.objectContaining({ eventType: 'order.confirmed', recipient: 'ada@example.com' }),
    ]);
  });

  it('warns operations once when a reservation takes a SKU down to the stock-low threshold', async () => {
    const sku = await stock(7); // threshold is 5 (STOCK_LOW_THRESHOLD default)
    await placeOrder([{ sku, quantity: 1 }]); // 6 left: above the threshold
    const crossing = (await placeOrder([{ sku, quantity: 2 }])).body; // 4 left: crosses it
    await placeOrder([{ sku, quantity: 1 }]); // 3 left: already below, no second alert

    const low = await system.probe.next(InventoryStockLow, { where: (e) => e.sku === sku });
    expect(low.body).toMatchObject({ sku, available: 4, threshold: 5 });
    expect(low.correlationId).toBeDefined();
    await system.smtp.waitForMail('ops@shop.example', `Stock low: ${sku} (4 left)`);
    expect(crossing.status).toBe('CONFIRMED');
    expect(system.probe.all(InventoryStockLow, (e) => e.sku === sku)).toHaveLength(1);
    expect((await http('GET', system.url('inventory', '/stock/NO-SUCH-SKU'))).status).toBe(404);
  });

  it('rejects an order OUT_OF_STOCK with the short SKUs and leaves all stock untouched', async () => {
    const plenty = await stock(10);
    const scarce = await stock(1);
    const res = await placeOrder([
      { sku: plenty, quantity: 2 },
      { sku: scarce, quantity: 2 },
    ]);

    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'REJECTED',
      rejection: { reason: 'OUT_OF_STOCK', skus: [scarce] },
    });
    expect(await available(plenty)).toBe(10);
    expect(await available(scarce)).toBe(1);
    const rejected = await system.probe.next(OrderRejected, {
      where: (e) => e.orderId === res.body.id,
    });
    expect(rejected.body).toMatchObject({ reason: 'OUT_OF_STOCK', skus: [scarce] });
    await system.smtp.waitForMail('ada@example.com', `Order ${res.body.id} could not be accepted`);
  });

  it('rejects an order with an unknown SKU as INVALID_ITEMS', async () => {
    const known = await stock(5);
    const res = await placeOrder([
      { sku: known, quantity: 1 },
      { sku: 'NO-SUCH-SKU', quantity: 1 },
    ]);

    expect(res.body).toMatchObject({
      status: 'REJECTED',
      rejection: { reason: 'INVALID_ITEMS', skus: ['NO-SUCH-SKU'] },
    });
    expect(await available(known)).toBe(5);
  });

  it('creates one order for a repeated Idempotency-Key and refuses the key with another body', async () => {
    const sku = await stock(10);
    const key = randomUUID();
    const first = await placeOrder([{ sku, quantity: 1 }], { 'Idempotency-Key': key });
    const again = await placeOrder([{ sku, quantity: 1 }], { 'Idempotency-Key': key });

    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await available(sku)).toBe(9);

    const other = await placeOrder([{ sku, quantity: 2 }], { 'Idempotency-Key': key });
    expect(other.status).toBe(422);
    expect(other.body.error).toBe('ORDER.IDEMPOTENCY_KEY_REUSED');
  });

  it('answers a repeated inventory.reserve with the first answer and reserves once', async () => {
    const sku = await stock(10);
    const orderId = randomUUID();
    const request = { orderId, items: [{ sku, quantity: 4 }] };
    const client = await system.rpcClient();

    const [first, second] = await Promise.all([
      client.request(InventoryReserve, request),
      client.request(InventoryReserve, request),
    ]);
    const third = await client.request(InventoryReserve, request);

    expect(first).toEqual({ orderId, status: 'RESERVED', items: [{ sku, quantity: 4 }] });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(await available(sku)).toBe(6);
  });

  it('cancels a confirmed order: stock returns, the customer is told, a second cancel changes nothing', async () => {
    const sku = await stock(5);
    const order = (await placeOrder([{ sku, quantity: 2 }], {}, 'bob@example.com')).body;
    expect(order.status).toBe('CONFIRMED');
    expect(await available(sku)).toBe(3);

    const cancelled = await http('POST', system.url('order', `/orders/${order.id}/cancel`));
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    await system.probe.next(OrderCancelled, { where: (e) => e.orderId === order.id });
    const released = await system.probe.next(InventoryReleased, {
      where: (e) => e.orderId === order.id,
    });
    expect(released.body).toMatchObject({
      reason: 'ORDER_CANCELLED',
      items: [{ sku, quantity: 2 }],
    });
    expect(await available(sku)).toBe(5);
    await system.smtp.waitForMail('bob@example.com', `Order ${order.id} cancelled`);

    const twice = await http('POST', system.url('order', `/orders/${order.id}/cancel`));
    expect(twice.status).toBe(200);
    expect(twice.body.status).toBe('CANCELLED');
    expect(system.probe.all(OrderCancelled, (e) => e.orderId === order.id)).toHaveLength(1);
    expect(await available(sku)).toBe(5);
  });

  it('releases stock once when the same cancellation arrives twice', async () => {
    const sku = await stock(5);
    const order = (await placeOrder([{ sku, quantity: 3 }])).body;
    expect(await available(sku)).toBe(2);
    const cancelled = {
      orderId: order.id,
      customerEmail: order.customerEmail,
      items: order.items,
      occurredAt: new Date().toISOString(),
    };
    const messageId = randomUUID();

    const cancellations = { queue: eventsQueue('inventory'), type: OrderCancelled.name };
    const before = await system.handled('inventory', cancellations);
    // A redelivery (same message_id) and a duplicate publish (new message_id).
    await system.probe.publishEvent(OrderCancelled.name, cancelled, { messageId });
    await system.probe.publishEvent(OrderCancelled.name, cancelled, { messageId });
    await system.probe.publishEvent(OrderCancelled.name, cancelled);

    await system.probe.next(InventoryReleased, { where: (e) => e.orderId === order.id });
    await system.waitHandled('inventory', cancellations, before + 3); // all three, not only one
    expect(await available(sku)).toBe(5);
    expect(system.probe.all(InventoryReleased, (e) => e.orderId === order.id)).toHaveLength(1);
  });

  it('refuses to cancel a rejected order with 409', async () => {
    const sku = await stock(0);
    const order = (await placeOrder([{ sku, quantity: 1 }])).body;
    expect(order.status).toBe('REJECTED');

    const res = await http('POST', system.url('order', `/orders/${order.id}/cancel`));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'ORDER.NOT_CANCELLABLE' });
  });

  it('reads orders by id and lists them by status with a cursor', async () => {
    const sku = await stock(100);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await placeOrder([{ sku, quantity: 1 }], {}, 'list@example.com')).body.id);

    const one = await http('GET', system.url('order', `/orders/${ids[0]}`));
    expect(one.body).toMatchObject({ id: ids[0], status: 'CONFIRMED' });
    expect((await http('GET', system.url('order', `/orders/${randomUUID()}`))).status).toBe(404);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/orders?status=CONFIRMED&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await http('GET', system.url('order', query));
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      expect(page.body.items.every((o: { status: string }) => o.status === 'CONFIRMED')).toBe(true);
      seen.push(...page.body.items.map((o: { id: string }) => o.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    // Newest first, each exactly once.
    expect(seen.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
    expect(new Set(seen).size).toBe(seen.length);

    expect((await http('GET', system.url('order', '/orders?cursor=bogus'))).status).toBe(400);
  });

  it('answers invalid bodies with 400 naming each bad field', async () => {
    const url = system.url('order', '/orders');
    const bad = await http('POST', url, {
      customerEmail: 'not-an-email',
      items: [{ sku: 'ok-sku', quantity: 0 }],
      extra: 1,
    });
    expect(bad.status).toBe(400);
    const paths = bad.body.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(['customerEmail', 'items.0.sku', 'items.0.quantity', '(root)']),
    );
    expect(bad.body.message).toContain('items.0.quantity');

    const empty = await http('POST', url, { customerEmail: 'a@example.com', items: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.issues[0].path).toBe('items');

    const notJson = await http('POST', url, '{"customerEmail":', {
      'content-type': 'application/json',
    });
    expect(notJson.status).toBe(400);

    const badStock = await http('PUT', system.url('inventory', '/stock/ABC-1'), { available: -1 });
    expect(badStock.status).toBe(400);
    expect(badStock.body.issues[0].path).toBe('available');
  });
});
