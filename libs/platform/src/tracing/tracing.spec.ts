import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ConfigValidationError } from '../config/env.js';
import { loadServiceConfig } from '../config/service-config.js';
import { Tracing } from './tracing.js';
import { tracingEnabled } from './tracing.config.js';

const REQUIRED = {
  RABBITMQ_URL: 'amqp://guest:guest@rabbitmq:5672',
  DATABASE_URL: 'postgres://shop:not-the-demo-one@postgres:5432/shop',
  API_KEYS: 'ops:admin:admin-key-aaaaaaaaaaaa',
};
const load = (env: Record<string, string>) =>
  loadServiceConfig(
    'order',
    { ...REQUIRED, ...env },
    { port: 3001, schema: 'orders' },
    z.object({}),
  ).config.tracing;

describe('tracing config', () => {
  it('is off unless OTEL_TRACES_EXPORTER says otherwise', () => {
    expect(load({})).toEqual({ exporter: 'none' });
    expect(tracingEnabled(load({}))).toBe(false);
    expect(tracingEnabled(load({ OTEL_TRACES_EXPORTER: 'console' }))).toBe(true);
    expect(tracingEnabled({ exporter: 'none', spanExporter: new InMemorySpanExporter() })).toBe(
      true,
    );
  });

  it('reads the OTLP endpoint', () => {
    expect(
      load({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }),
    ).toEqual({ exporter: 'otlp', otlpEndpoint: 'http://jaeger:4318' });
  });

  it('names a bad exporter and a bad endpoint', () => {
    let error: unknown;
    try {
      load({ OTEL_TRACES_EXPORTER: 'jaeger', OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger:4318' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const problems = (error as ConfigValidationError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^OTEL_TRACES_EXPORTER: /);
    expect(problems[1]).toBe('OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:// or https:// URL');
  });
});

describe('Tracing with the OTLP exporter', () => {
  const received: { url: string; body: string }[] = [];
  let collector: Server;
  let endpoint: string;

  beforeAll(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('latin1')));
      req.on('end', () => {
        received.push({ url: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector.listen(0, '127.0.0.1');
    await new Promise((resolve) => collector.once('listening', resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/`;
  });

  afterAll(() => new Promise((resolve) => collector.close(resolve)));

  it('sends the spans to <endpoint>/v1/traces, at the latest on shutdown', async () => {
    const tracing = Tracing.create('order', { exporter: 'otlp', otlpEndpoint: endpoint });
    tracing.tracer.startSpan('POST /orders').end();
    await tracing.onApplicationShutdown();

    expect(received.map((r) => r.url)).toEqual(['/v1/traces']);
    // OTLP/HTTP with JSON bodies (https://opentelemetry.io/docs/specs/otlp/#otlphttp).
    const [resourceSpans] = JSON.parse(received[0].body).resourceSpans;
    expect(resourceSpans.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'order' },
    });
    expect(resourceSpans.scopeSpans[0].spans.map((s: { name: string }) => s.name)).toEqual([
      'POST /orders',
    ]);
  });
});

describe('Tracing.registerGlobal', () => {
  afterAll(() => {
    trace.disable();
    context.disable();
    propagation.disable();
  });

  it('serves the OpenTelemetry API (tracer, active span, propagation) from this service', () => {
    const exporter = new InMemorySpanExporter();
    const tracing = Tracing.create('order', { exporter: 'none', spanExporter: exporter });
    tracing.registerGlobal();

    const span = tracing.tracer.startSpan('request');
    tracing.with(trace.setSpan(tracing.active(), span), () => {
      expect(trace.getActiveSpan()).toBe(span);
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      expect(carrier.traceparent).toContain(span.spanContext().spanId);
      trace.getTracer('app').startSpan('custom').end();
    });
    span.end();

    const [custom] = exporter.getFinishedSpans();
    expect(custom.name).toBe('custom');
    expect(custom.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
  });
});
