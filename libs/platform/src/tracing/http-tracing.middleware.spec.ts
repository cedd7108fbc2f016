import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import express from 'express';
import { HttpTracingMiddleware } from './http-tracing.middleware.js';
import { Tracing } from './tracing.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

describe('HttpTracingMiddleware', () => {
  const exporter = new InMemorySpanExporter();
  const tracing = Tracing.create('test', { exporter: 'none', spanExporter: exporter });
  let server: Server;
  let base: string;
  /** The span id active in the last handler, to prove the handler ran inside the span. */
  let activeInHandler: string | undefined;

  beforeAll(async () => {
    const middleware = new HttpTracingMiddleware(tracing);
    const app = express();
    // Mounted as Nest mounts module middleware for forRoutes('*') (platform-express).
    app.use('/{*path}', (req, res, next) => middleware.use(req, res, next));
    app.get('/orders/:id', async (_req, res) => {
      await new Promise((resolve) => setImmediate(resolve));
      activeInHandler = trace.getSpan(tracing.active())?.spanContext().spanId;
      res.status(200).json({ ok: true });
    });
    app.get('/boom', (_req, res) => {
      res.status(503).end();
    });
    app.get('/health/ready', (_req, res) => {
      res.status(200).end();
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise((resolve) => server.close(resolve)));
  afterEach(() => exporter.reset());

  /** Spans end when the response closes, a moment after the client has read it. */
  async function finished(count: number) {
    for (let i = 0; i < 100 && exporter.getFinishedSpans().length < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return exporter.getFinishedSpans();
  }

  it('opens a SERVER span named after the route, continuing the caller’s traceparent', async () => {
    const res = await fetch(`${base}/orders/42`, {
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
    });
    expect(res.status).toBe(200);

    const [span] = await finished(1);
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.name).toBe('GET /orders/:id');
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/orders/:id',
      'http.response.status_code': 200,
      'url.path': '/orders/42',
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(activeInHandler).toBe(span.spanContext().spanId);
  });

  it('starts a new trace without traceparent and marks 5xx responses as errors', async () => {
    await fetch(`${base}/boom?x=1`);
    const [span] = await finished(1);
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe(TRACE_ID);
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('503');
    expect(span.attributes['url.path']).toBe('/boom');
  });

  it('names a request no route matched by its method only', async () => {
    await fetch(`${base}/nowhere/${Math.random()}`);
    const [span] = await finished(1);
    expect(span.name).toBe('GET');
    expect(span.attributes['http.route']).toBeUndefined();
    expect(span.attributes['http.response.status_code']).toBe(404);
  });

  it('does not trace health probes', async () => {
    await fetch(`${base}/health/ready`);
    await fetch(`${base}/orders/1`);
    const spans = await finished(1);
    expect(spans.map((s) => s.attributes['url.path'])).toEqual(['/orders/1']);
  });
});
