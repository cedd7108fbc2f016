import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OrderConfirmed } from '@app/contracts';
import { waitFor } from '@app/messaging/testing';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { http } from '../support/http.js';
import { TestSystem } from '../support/system.js';

/**
 * Tracing on, each app exporting into its own in-memory exporter (they share this process, not
 * a tracer): one client request must show up as one trace in all three services, linked
 * HTTP → RPC → handler, and HTTP → outbox → relay → event consumer.
 */
describe('tracing across the services', () => {
  const exporters = {
    order: new InMemorySpanExporter(),
    inventory: new InMemorySpanExporter(),
    notification: new InMemorySpanExporter(),
  };
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start('tracing', { spanExporters: exporters });
  });

  afterAll(() => system?.stop());

  /** A caller's trace context, as a browser or a gateway would send it. */
  function callerTrace() {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    return { traceId, parentId, traceparent: `00-${traceId}-${parentId}-01` };
  }

  /** Waits until `service` has exported the span named `name` in trace `traceId`. */
  function span(
    service: keyof typeof exporters,
    traceId: string,
    name: string,
  ): Promise<ReadableSpan> {
    return waitFor(`${service} span "${name}" in trace ${traceId}`, () =>
      exporters[service]
        .getFinishedSpans()
        .find((s) => s.spanContext().traceId === traceId && s.name === name),
    );
  }

  const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
  const serviceOf = (s: ReadableSpan) => s.resource.attributes['service.name'];

  const stock = (available: number) => system.stockNewSku(available);

  const placeOrder = (sku: string, quantity: number, traceparent: string) =>
    http(
      'POST',
      system.url('order', '/orders'),
      { customerEmail: 'ada@example.com', items: [{ sku, quantity }] },
      { traceparent },
    );

  it('follows one order through order, inventory and notification as one trace', async () => {
    const sku = await stock(5);
    const caller = callerTrace();

    // A probe with the same context: health checks stay out of traces.
    await http('GET', system.url('order', '/health/ready'), undefined, {
      traceparent: caller.traceparent,
    });
    const res = await placeOrder(sku, 2, caller.traceparent);
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('CONFIRMED');

    // order: the HTTP request, continuing the caller's trace.
    const post = await span('order', caller.traceId, 'POST /orders');
    expect(post.kind).toBe(SpanKind.SERVER);
    expect(serviceOf(post)).toBe('order');
    expect(parentOf(post)).toBe(caller.parentId);
    expect(post.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/orders',
      'http.response.status_code': 201,
      'url.path': '/orders',
    });
    const inTrace = exporters.order
      .getFinishedSpans()
      .filter((s) => s.spanContext().traceId === caller.traceId);
    expect(inTrace.map((s) => s.name)).toEqual(['POST /orders']);

    // inventory: the RPC handler, a child of the order request that called it.
    const reserve = await span('inventory', caller.traceId, 'process inventory.reserve');
    expect(reserve.kind).toBe(SpanKind.CONSUMER);
    expect(serviceOf(reserve)).toBe('inventory');
    expect(parentOf(reserve)).toBe(post.spanContext().spanId);
    expect(reserve.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'inventory.rpc',
      'messaging.message.type': 'inventory.reserve',
      'messaging.consume.outcome': 'replied',
    });
    expect(reserve.attributes['messaging.message.id']).toEqual(expect.any(String));
    expect(reserve.endTime[0] * 1e9 + reserve.endTime[1]).toBeLessThanOrEqual(
      post.endTime[0] * 1e9 + post.endTime[1],
    );

    // notification: order.confirmed left through the outbox (stored in the request's
    // transaction, published later by the relay) and still continues the request's trace.
    const confirmed = await span('notification', caller.traceId, 'process order.confirmed');
    expect(confirmed.kind).toBe(SpanKind.CONSUMER);
    expect(serviceOf(confirmed)).toBe('notification');
    expect(parentOf(confirmed)).toBe(post.spanContext().spanId);
    const event = await system.probe.next(OrderConfirmed, {
      where: (e) => e.orderId === res.body.id,
    });
    expect(confirmed.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'notification.events',
      'messaging.message.id': event.messageId,
      'messaging.message.type': 'order.confirmed',
      'messaging.consume.outcome': 'acked',
    });
    // On the wire: W3C trace context in the headers, for consumers in any language.
    expect(event.headers.traceparent).toBe(`00-${caller.traceId}-${post.spanContext().spanId}-01`);
  });

  it('carries a cancellation’s trace to the compensation in inventory and the e-mail', async () => {
    const sku = await stock(5);
    const order = await placeOrder(sku, 1, callerTrace().traceparent);
    expect(order.body.status).toBe('CONFIRMED');
    const caller = callerTrace();

    const res = await http(
      'POST',
      system.url('order', `/orders/${order.body.id}/cancel`),
      undefined,
      { traceparent: caller.traceparent },
    );
    expect(res.status).toBeLessThan(300);

    const cancel = await span('order', caller.traceId, 'POST /orders/:id/cancel');
    expect(parentOf(cancel)).toBe(caller.parentId);
    const release = await span('inventory', caller.traceId, 'process order.cancelled');
    expect(parentOf(release)).toBe(cancel.spanContext().spanId);
    expect(release.attributes['messaging.destination.name']).toBe('inventory.events');
    const mail = await span('notification', caller.traceId, 'process order.cancelled');
    expect(parentOf(mail)).toBe(cancel.spanContext().spanId);
  });

  it('puts a rejected order’s release and e-mail into the trace of the request', async () => {
    const sku = await stock(1);
    const caller = callerTrace();

    const res = await placeOrder(sku, 3, caller.traceparent);
    expect(res.body.status).toBe('REJECTED');

    const post = await span('order', caller.traceId, 'POST /orders');
    for (const service of ['inventory', 'notification'] as const) {
      const rejected = await span(service, caller.traceId, 'process order.rejected');
      expect(parentOf(rejected)).toBe(post.spanContext().spanId);
    }
  });

  it('starts the trace in order when the request brings none', async () => {
    const sku = await stock(5);
    const res = await http('POST', system.url('order', '/orders'), {
      customerEmail: 'ada@example.com',
      items: [{ sku, quantity: 1 }],
    });
    expect(res.status).toBe(201);

    // Found through the event's message id, the one thing that names this order's spans.
    const event = await system.probe.next(OrderConfirmed, {
      where: (e) => e.orderId === res.body.id,
    });
    const mail = await waitFor('the order.confirmed span of the untraced order', () =>
      exporters.notification
        .getFinishedSpans()
        .find((s) => s.attributes['messaging.message.id'] === event.messageId),
    );
    const { traceId } = mail.spanContext();
    const post = await span('order', traceId, 'POST /orders');
    expect(post.parentSpanContext).toBeUndefined();
    expect(parentOf(mail)).toBe(post.spanContext().spanId);
    const reserve = await span('inventory', traceId, 'process inventory.reserve');
    expect(parentOf(reserve)).toBe(post.spanContext().spanId);
  });
});
