import { afterEach, describe, expect, it } from '@jest/globals';
import type { ConsumeInfo } from '@app/messaging';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { MessagingAttributes, MessagingTracer } from './messaging-tracer.js';
import { Tracing } from './tracing.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`;

const delivery = (headers: Record<string, unknown>): ConsumeInfo => ({
  kind: 'event',
  type: 'order.confirmed',
  queue: 'notification.events',
  messageId: 'm-1',
  correlationId: 'req-1',
  headers,
});

describe('MessagingTracer', () => {
  const exporter = new InMemorySpanExporter();
  const tracing = Tracing.create('test', { exporter: 'none', spanExporter: exporter });
  const tracer = new MessagingTracer(tracing);

  afterEach(() => exporter.reset());

  it('adds the active span as traceparent to events and RPC requests, not to replies', () => {
    const span = tracing.tracer.startSpan('caller');
    const { spanId, traceId } = span.spanContext();
    tracing.with(trace.setSpan(tracing.active(), span), () => {
      const event = tracer.outgoingHeaders({
        kind: 'event',
        type: 'order.created',
        exchange: 'events',
        routingKey: 'order.created',
      });
      expect(event?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
      const request = tracer.outgoingHeaders({
        kind: 'rpc-request',
        type: 'inventory.reserve',
        exchange: '',
        routingKey: 'inventory.rpc',
      });
      expect(request?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
      const reply = tracer.outgoingHeaders({
        kind: 'rpc-reply',
        type: 'inventory.reserve.reply',
        exchange: '',
        routingKey: 'amq.rabbitmq.reply-to',
      });
      expect(reply).toBeUndefined();
    });
    span.end();
  });

  it('adds nothing outside a span', () => {
    const info = { kind: 'event', type: 't', exchange: 'events', routingKey: 't' } as const;
    expect(tracer.outgoingHeaders(info)).toBeUndefined();
  });

  it('runs the handler in a CONSUMER span that continues the trace of the message', async () => {
    const scope = tracer.consuming(delivery({ traceparent: TRACEPARENT, tracestate: 'k=v' }));
    const seen = await scope.run(async () => {
      await Promise.resolve();
      return trace.getSpan(tracing.active())?.spanContext();
    });
    scope.end('acked');

    const [span] = exporter.getFinishedSpans();
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.name).toBe('process order.confirmed');
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span.spanContext().traceState?.get('k')).toBe('v');
    expect(seen?.spanId).toBe(span.spanContext().spanId);
    expect(span.attributes).toEqual({
      [MessagingAttributes.system]: 'rabbitmq',
      [MessagingAttributes.destination]: 'notification.events',
      [MessagingAttributes.operationType]: 'process',
      [MessagingAttributes.operationName]: 'process',
      [MessagingAttributes.messageType]: 'order.confirmed',
      [MessagingAttributes.messageId]: 'm-1',
      [MessagingAttributes.conversationId]: 'req-1',
      [MessagingAttributes.outcome]: 'acked',
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('reads a traceparent sent as bytes (a client that writes headers as byte arrays)', () => {
    const scope = tracer.consuming(delivery({ traceparent: Buffer.from(TRACEPARENT) }));
    scope.end('acked');
    expect(exporter.getFinishedSpans()[0].spanContext().traceId).toBe(TRACE_ID);
  });

  it('starts a new trace for a message without (or with a malformed) traceparent', () => {
    tracer.consuming(delivery({})).end('acked');
    tracer.consuming(delivery({ traceparent: 'garbage' })).end('acked');
    for (const span of exporter.getFinishedSpans()) {
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.spanContext().traceId).not.toBe(TRACE_ID);
    }
  });

  it.each(['retried', 'dead-lettered', 'abandoned'] as const)(
    'marks the span as failed when the delivery is %s',
    (outcome) => {
      tracer.consuming(delivery({})).end(outcome, 'SMTP down');
      const [span] = exporter.getFinishedSpans();
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'SMTP down' });
      expect(span.attributes[MessagingAttributes.outcome]).toBe(outcome);
    },
  );

  it('marks an RPC answered with an error reply as failed, a good reply as not', () => {
    const rpc = { ...delivery({}), kind: 'rpc', type: 'inventory.reserve' } as const;
    tracer.consuming(rpc).end('replied', 'VALIDATION_FAILED');
    tracer.consuming(rpc).end('replied');
    const [failed, answered] = exporter.getFinishedSpans();
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: 'VALIDATION_FAILED' });
    expect(answered.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('keeps each service’s context to itself when several run in one process', async () => {
    const other = Tracing.create('other', { exporter: 'none', spanExporter: exporter });
    const span = tracing.tracer.startSpan('mine');
    await tracing.with(trace.setSpan(tracing.active(), span), async () => {
      await Promise.resolve();
      expect(tracing.inject()).toBeDefined();
      expect(other.inject()).toBeUndefined();
    });
    span.end();
  });
});
