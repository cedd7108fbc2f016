import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { OrderConfirmed } from '@app/contracts';
import { EVENTS_EXCHANGE } from '@app/messaging';
import { OutboxRelay } from '@app/outbox';
import { waitFor } from '@app/messaging/testing';
import { CircuitStateValue, MetricNames as M } from '@app/platform';
import { http, testApiKeys } from '../support/http.js';
import { scrape } from '../support/metrics.js';
import { type ServiceName, TestSystem } from '../support/system.js';

const count = (name: string) => `${name}_count`;

describe('GET /metrics', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start('metrics');
  });

  afterAll(() => system?.stop());

  const metrics = (service: ServiceName) => scrape(system.url(service, '/metrics'));
  const all = async () => ({
    order: await metrics('order'),
    inventory: await metrics('inventory'),
    notification: await metrics('notification'),
  });
  /** How much `name{labels}` grew in `service` since `before`. */
  const grew = async (
    before: Awaited<ReturnType<typeof all>>,
    service: keyof Awaited<ReturnType<typeof all>>,
    name: string,
    labels: Record<string, string>,
  ) => (await metrics(service)).sum(name, labels) - before[service].sum(name, labels);

  it('counts one order in all three services: publishes, RPC, deliveries, outcomes, outbox', async () => {
    const sku = `METRICS-${randomUUID().slice(0, 6).toUpperCase()}`;
    await http('PUT', system.url('inventory', `/stock/${sku}`), { available: 5 });
    const before = await all();
    const relay = system.app('order').get(OutboxRelay);
    await relay.stop(); // the order's events wait in the outbox until we restart the relay

    const order = await http('POST', system.url('order', '/orders'), {
      customerEmail: 'metrics@example.com',
      items: [{ sku, quantity: 1 }],
    });
    expect(order.body.status).toBe('CONFIRMED');

    const waiting = await metrics('order');
    expect(waiting.get(M.outboxPending)).toBe(2); // order.created + order.confirmed
    expect(waiting.get(M.outboxOldestAge)).toBeGreaterThanOrEqual(0);
    expect(waiting.sum(M.messagesPublished, { type: 'order.confirmed' })).toBe(
      before.order.sum(M.messagesPublished, { type: 'order.confirmed' }),
    );

    relay.start();
    await system.smtp.waitForMail('metrics@example.com', `Order ${order.body.id} confirmed`);
    await waitFor('the order outbox to drain', async () =>
      (await metrics('order')).get(M.outboxPending) === 0 ? true : undefined,
    );

    // order: two events out through the outbox, one RPC round trip
    for (const type of ['order.created', 'order.confirmed']) {
      expect(
        await grew(before, 'order', M.messagesPublished, { type, kind: 'event', outcome: 'ok' }),
      ).toBe(1);
    }
    expect(
      await grew(before, 'order', count(M.rpcDuration), {
        pattern: 'inventory.reserve',
        outcome: 'ok',
      }),
    ).toBe(1);
    expect((await metrics('order')).get(M.outboxOldestAge)).toBe(0);

    // inventory: took the RPC, replied, timed the handler, published inventory.reserved
    const rpc = { type: 'inventory.reserve', kind: 'rpc' };
    expect(
      await grew(before, 'inventory', M.messagesConsumed, { ...rpc, queue: 'inventory.rpc' }),
    ).toBe(1);
    expect(await grew(before, 'inventory', M.messagesHandled, { ...rpc, outcome: 'replied' })).toBe(
      1,
    );
    expect(await grew(before, 'inventory', count(M.handlerDuration), rpc)).toBe(1);
    expect(
      await grew(before, 'inventory', M.messagesPublished, {
        type: 'inventory.reserve.reply',
        kind: 'rpc-reply',
        outcome: 'ok',
      }),
    ).toBe(1);
    await waitFor('inventory.reserved to be published', async () =>
      (await grew(before, 'inventory', M.messagesPublished, { type: 'inventory.reserved' })) === 1
        ? true
        : undefined,
    );

    // notification: consumed order.confirmed and acked it after the e-mail
    const confirmed = { type: 'order.confirmed', kind: 'event' };
    await waitFor('notification to ack order.confirmed', async () =>
      (await grew(before, 'notification', M.messagesHandled, {
        ...confirmed,
        outcome: 'acked',
      })) === 1
        ? true
        : undefined,
    );
    expect(
      await grew(before, 'notification', M.messagesConsumed, {
        ...confirmed,
        queue: 'notification.events',
      }),
    ).toBe(1);
    expect(await grew(before, 'notification', count(M.handlerDuration), confirmed)).toBe(1);

    // a cancellation: an event inventory consumes, acked there and in notification
    await http('POST', system.url('order', `/orders/${order.body.id}/cancel`));
    const cancelled = { type: 'order.cancelled', kind: 'event', outcome: 'acked' };
    for (const service of ['inventory', 'notification'] as const) {
      await waitFor(`${service} to ack order.cancelled`, async () =>
        (await grew(before, service, M.messagesHandled, cancelled)) === 1 ? true : undefined,
      );
    }
  });

  it("reports the depth and consumers of the service's own queues, from the broker", async () => {
    const inventory = await metrics('inventory');
    for (const queue of ['inventory.rpc', 'inventory.events', 'inventory.dlq']) {
      expect(inventory.get(M.queueReady, { queue })).toBe(0);
    }
    expect(inventory.get(M.queueConsumers, { queue: 'inventory.rpc' })).toBe(1);
    expect(inventory.get(M.queueConsumers, { queue: 'inventory.dlq' })).toBe(0);
    expect(inventory.matching(M.queueReady, { queue: 'notification.events' })).toEqual([]);
    // order consumes nothing, so it owns no queue
    expect((await metrics('order')).matching(M.queueReady)).toEqual([]);
  });

  it('counts a poison message as dead-lettered and shows it in the DLQ depth', async () => {
    const before = await all();
    const dlqBefore = before.notification.get(M.queueReady, { queue: 'notification.dlq' });
    expect(dlqBefore).toBe(0);

    await system.probe.publish(EVENTS_EXCHANGE, OrderConfirmed.name, Buffer.from('{not json'), {
      messageId: randomUUID(),
      type: OrderConfirmed.name,
      persistent: true,
    });

    const deadLettered = { type: 'order.confirmed', outcome: 'dead-lettered' };
    await waitFor('the dead-letter to be counted', async () =>
      (await grew(before, 'notification', M.messagesHandled, deadLettered)) === 1
        ? true
        : undefined,
    );
    await waitFor('the DLQ depth to show it', async () =>
      (await metrics('notification')).get(M.queueReady, { queue: 'notification.dlq' }) === 1
        ? true
        : undefined,
    );
    expect(
      await grew(before, 'notification', M.messagesHandled, { ...deadLettered, kind: 'event' }),
    ).toBe(1);
  });

  it('serves the Prometheus text format with process metrics and the service label', async () => {
    // As Prometheus scrapes: the admin key as a bearer token.
    const res = await fetch(system.url('notification', '/metrics'), {
      headers: { authorization: `Bearer ${testApiKeys.admin}` },
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^process_cpu_seconds_total\{service="notification"\} /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="notification"\} /m);
  });
});

describe('the circuit gauge', () => {
  let system: TestSystem | undefined;

  afterEach(async () => {
    await system?.stop();
    system = undefined;
  });

  it('shows the circuit to inventory closed, then open once inventory stops answering', async () => {
    system = await TestSystem.start('metrics-circuit', {
      services: ['order', 'inventory'],
      env: { RPC_TIMEOUT_MS: '400', RPC_CIRCUIT_FAILURES: '2', RPC_CIRCUIT_COOLDOWN_MS: '60000' },
    });
    const s = system;
    const metrics = () => scrape(s.url('order', '/metrics'));
    const placeOrder = () =>
      http('POST', s.url('order', '/orders'), {
        customerEmail: 'circuit@example.com',
        items: [{ sku: 'CIRCUIT-M', quantity: 1 }],
      });
    await http('PUT', s.url('inventory', '/stock/CIRCUIT-M'), { available: 10 });
    expect((await metrics()).matching(M.circuitState)).toEqual([]); // nothing called yet

    expect((await placeOrder()).body.status).toBe('CONFIRMED');
    expect((await metrics()).get(M.circuitState, { target: 'inventory' })).toBe(
      CircuitStateValue.closed,
    );

    await s.stopService('inventory');
    await placeOrder();
    await placeOrder();
    const open = await metrics();
    expect(open.get(M.circuitState, { target: 'inventory' })).toBe(CircuitStateValue.open);
    expect(open.sum(count(M.rpcDuration), { outcome: 'timeout' })).toBe(2);

    await placeOrder(); // fails fast: no request sent
    expect((await metrics()).sum(count(M.rpcDuration), { outcome: 'circuit-open' })).toBe(1);
  });
});
