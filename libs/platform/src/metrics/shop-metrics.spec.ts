import { describe, expect, it } from '@jest/globals';
import type { Histogram } from 'prom-client';
import {
  CircuitStateValue,
  exportedMetricNames,
  MetricNames,
  ShopMetrics,
} from './shop-metrics.js';

const value = async (m: ShopMetrics, name: string, labels: Record<string, string> = {}) => {
  const metric = await m.registry.getSingleMetric(name)?.get();
  const matching = (metric?.values ?? []).filter((v) =>
    Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return matching.length === 0 ? undefined : matching.reduce((sum, v) => sum + v.value, 0);
};

describe('ShopMetrics', () => {
  it('counts publishes by type, kind and outcome, with the service label on every series', async () => {
    const m = new ShopMetrics('order');
    const info = {
      kind: 'event',
      type: 'order.created',
      exchange: 'events',
      routingKey: 'order.created',
    } as const;
    m.published(info, true);
    m.published(info, true);
    m.published(info, false);
    expect(
      await value(m, MetricNames.messagesPublished, { type: 'order.created', outcome: 'ok' }),
    ).toBe(2);
    expect(await value(m, MetricNames.messagesPublished, { outcome: 'failed' })).toBe(1);
    expect(await m.registry.metrics()).toContain(
      'shop_messages_published_total{type="order.created",kind="event",outcome="ok",service="order"} 2',
    );
  });

  it('counts a delivery when taken and by outcome when it ends, timing the handler', async () => {
    const m = new ShopMetrics('notification');
    const scope = m.consuming({
      kind: 'event',
      type: 'order.confirmed',
      queue: 'notification.events',
      headers: {},
    });
    expect(await value(m, MetricNames.messagesConsumed, { type: 'order.confirmed' })).toBe(1);
    expect(await value(m, MetricNames.messagesHandled)).toBeUndefined();
    await expect(scope.run(async () => 'done')).resolves.toBe('done');
    scope.end('dead-lettered');
    expect(
      await value(m, MetricNames.messagesHandled, {
        queue: 'notification.events',
        outcome: 'dead-lettered',
      }),
    ).toBe(1);
    const histogram = await (
      m.registry.getSingleMetric(MetricNames.handlerDuration) as Histogram
    ).get();
    expect(histogram.values.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(1);
  });

  it('keeps labels bounded: a type no contract declares is "other", a missing one "none"', async () => {
    const m = new ShopMetrics('inventory');
    m.consuming({ kind: 'event', type: `junk-${Math.random()}`, queue: 'q', headers: {} }).end(
      'dead-lettered',
    );
    m.consuming({ kind: 'event', type: undefined, queue: 'q', headers: {} }).end('dead-lettered');
    m.published(
      { kind: 'rpc-reply', type: 'inventory.reserve.reply', exchange: '', routingKey: 'x' },
      true,
    );
    m.published({ kind: 'rpc-reply', type: 'nope.reply', exchange: '', routingKey: 'x' }, true);
    expect(await value(m, MetricNames.messagesConsumed, { type: 'other' })).toBe(1);
    expect(await value(m, MetricNames.messagesConsumed, { type: 'none' })).toBe(1);
    expect(await value(m, MetricNames.messagesPublished, { type: 'inventory.reserve.reply' })).toBe(
      1,
    );
    expect(await value(m, MetricNames.messagesPublished, { type: 'other.reply' })).toBe(1);
  });

  it('observes RPC round trips in seconds by pattern and outcome', async () => {
    const m = new ShopMetrics('order');
    m.rpcCompleted('inventory.reserve', 250, 'ok');
    m.rpcCompleted('inventory.reserve', 0, 'circuit-open');
    const { values } = await (
      m.registry.getSingleMetric(MetricNames.rpcDuration) as Histogram
    ).get();
    const sample = (suffix: string, outcome: string) =>
      values.find((v) => v.metricName?.endsWith(suffix) && v.labels.outcome === outcome);
    expect(sample('_sum', 'ok')).toMatchObject({
      value: 0.25,
      labels: { pattern: 'inventory.reserve' },
    });
    expect(sample('_count', 'circuit-open')?.value).toBe(1);
  });

  it('reads circuits, outbox and queue depths on scrape', async () => {
    let circuits = { inventory: 'closed' as const } as Record<
      string,
      'closed' | 'open' | 'half-open'
    >;
    const m = new ShopMetrics('order', {
      circuits: () => circuits,
      outbox: async () => ({ pending: 3, oldestAgeSeconds: 1.5 }),
      queues: async () => [{ queue: 'order.dlq', messages: 4, consumers: 0 }],
    });
    expect(await value(m, MetricNames.circuitState, { target: 'inventory' })).toBe(0);
    circuits = { inventory: 'open' };
    expect(await value(m, MetricNames.circuitState, { target: 'inventory' })).toBe(
      CircuitStateValue.open,
    );
    expect(await value(m, MetricNames.outboxPending)).toBe(3);
    expect(await value(m, MetricNames.outboxOldestAge)).toBe(1.5);
    expect(await value(m, MetricNames.queueReady, { queue: 'order.dlq' })).toBe(4);
    expect(await value(m, MetricNames.queueConsumers, { queue: 'order.dlq' })).toBe(0);
  });

  it('reports NaN or no sample, and still answers the scrape, when a source fails', async () => {
    const m = new ShopMetrics('order', {
      outbox: () => Promise.reject(new Error('database down')),
      queues: () => Promise.reject(new Error('broker down')),
    });
    const text = await m.registry.metrics();
    expect(text).toContain(`# TYPE ${MetricNames.outboxPending} gauge`);
    expect(await value(m, MetricNames.outboxPending)).toBeNaN();
    expect(await value(m, MetricNames.queueReady)).toBeUndefined();
  });

  it('has no outbox gauges in a service without an outbox', async () => {
    const text = await new ShopMetrics('notification', {
      queues: async () => [],
    }).registry.metrics();
    expect(text).not.toContain(MetricNames.outboxPending);
    expect(text).not.toContain(MetricNames.outboxOldestAge);
  });

  it('keeps each instance in its own registry', async () => {
    const a = new ShopMetrics('a');
    const b = new ShopMetrics('b');
    a.rpcCompleted('inventory.reserve', 1, 'ok');
    expect(await b.registry.metrics()).not.toContain('inventory.reserve');
  });

  it('exports every name in MetricNames', () => {
    expect(exportedMetricNames().sort()).toEqual(Object.values(MetricNames).sort());
  });
});
