import type { OnApplicationShutdown } from '@nestjs/common';
import {
  context as contextApi,
  type Context,
  propagation,
  ROOT_CONTEXT,
  type TextMapGetter,
  type TextMapSetter,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from './tracing.config.js';

/** Reads `traceparent`/`tracestate` from HTTP headers or AMQP headers (strings, or bytes). */
const headerGetter: TextMapGetter<Readonly<Record<string, unknown>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
    return Buffer.isBuffer(value) ? value.toString('utf8') : undefined;
  },
};

const headerSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/**
 * One service's tracer, with its own provider, context (an AsyncLocalStorage of its own) and
 * W3C propagator, rather than the process-global API: e2e tests run several services in one
 * process, each with its own exporter, and none may see another's active span. `main.ts`
 * also registers it globally (`registerGlobal`), so `trace.getActiveSpan()` and OpenTelemetry
 * instrumentations work in a deployed service.
 */
export class Tracing implements OnApplicationShutdown {
  readonly tracer: Tracer;
  private readonly contextManager = new AsyncLocalStorageContextManager().enable();
  private readonly propagator = new W3CTraceContextPropagator();

  constructor(
    readonly service: string,
    private readonly provider: BasicTracerProvider,
  ) {
    this.tracer = provider.getTracer('@app/platform');
  }

  static create(service: string, config: TracingConfig): Tracing {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }),
      spanProcessors: [spanProcessor(config)],
    });
    return new Tracing(service, provider);
  }

  /** The context of the work in progress (ROOT_CONTEXT outside any span). */
  active(): Context {
    return this.contextManager.active();
  }

  /** Runs `fn` with `ctx` active, including whatever `fn` continues asynchronously. */
  with<T>(ctx: Context, fn: () => T): T {
    return this.contextManager.with(ctx, fn);
  }

  /** `traceparent` (and `tracestate`) for `ctx`, or undefined when it holds no valid span. */
  inject(ctx: Context = this.active()): Record<string, string> | undefined {
    const carrier: Record<string, string> = {};
    this.propagator.inject(ctx, carrier, headerSetter);
    return carrier.traceparent ? carrier : undefined;
  }

  /** The remote parent carried in `headers` (ROOT_CONTEXT when none or malformed). */
  extract(headers: Readonly<Record<string, unknown>>): Context {
    return this.propagator.extract(ROOT_CONTEXT, headers, headerGetter);
  }

  /** Makes this the process's OpenTelemetry tracer provider, context manager and propagator. */
  registerGlobal(): void {
    contextApi.setGlobalContextManager(this.contextManager);
    trace.setGlobalTracerProvider(this.provider);
    propagation.setGlobalPropagator(this.propagator);
  }

  /** Exports what is still buffered; runs after the consumers have drained. */
  async onApplicationShutdown(): Promise<void> {
    await this.provider.shutdown();
    this.contextManager.disable();
  }
}

function spanProcessor(config: TracingConfig): SpanProcessor {
  if (config.spanExporter) return new SimpleSpanProcessor(config.spanExporter);
  switch (config.exporter) {
    case 'console':
      return new SimpleSpanProcessor(new ConsoleSpanExporter());
    case 'otlp': {
      // Other OTEL_EXPORTER_OTLP_* variables (headers, timeout, compression) the exporter reads itself.
      const base = config.otlpEndpoint?.replace(/\/+$/, '');
      return new BatchSpanProcessor(
        new OTLPTraceExporter(base ? { url: `${base}/v1/traces` } : {}),
      );
    }
    case 'none':
      throw new Error('Tracing is off (OTEL_TRACES_EXPORTER=none): nothing to export to');
  }
}
