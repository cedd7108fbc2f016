import { Injectable, type NestMiddleware } from '@nestjs/common';
import { type Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import type { NextFunction, Request, Response } from 'express';
import { Tracing } from './tracing.js';

/** Probes and scrapes would bury the requests that matter. */
const UNTRACED = /^\/(health|metrics)(\/|$)/;

/**
 * A SERVER span per HTTP request, continuing the caller's trace when it sends `traceparent`
 * (https://www.w3.org/TR/trace-context/). Mounted as module middleware, so it runs after the
 * body parser and everything the handler does runs in the span's context.
 */
@Injectable()
export class HttpTracingMiddleware implements NestMiddleware {
  constructor(private readonly tracing: Tracing) {}

  use(req: Request, res: Response, next: NextFunction): void {
    // Not req.path: Nest mounts module middleware on a wildcard, which leaves req.path at "/".
    const path = req.originalUrl.split('?', 1)[0];
    if (UNTRACED.test(path)) return next();
    const parent = this.tracing.extract(req.headers);
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: req.method,
      [ATTR_URL_PATH]: path,
      [ATTR_URL_SCHEME]: req.protocol,
    };
    const span = this.tracing.tracer.startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes },
      parent,
    );
    res.once('close', () => {
      // Known once routing is done: `/orders/:id`, never the id itself (bounded span names).
      const route: unknown = req.route?.path;
      if (typeof route === 'string') {
        span.setAttribute(ATTR_HTTP_ROUTE, `${req.baseUrl}${route}`);
        span.updateName(`${req.method} ${req.baseUrl}${route}`);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (!res.writableFinished) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: 'connection closed before the response was sent',
        });
      } else if (res.statusCode >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(res.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    });
    this.tracing.with(trace.setSpan(parent, span), next);
  }
}
