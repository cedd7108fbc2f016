import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import type { HttpConfig } from '../config/service-config.js';
import { errorBody } from './error-body.js';

/**
 * What every HTTP API gets before its routes: helmet's security headers, no ETags, and JSON (and
 * urlencoded) bodies parsed up to `bodyLimit`, their errors (413, malformed JSON) answered
 * with the same body as every other error. Rate limits and API keys are guards
 * (HttpHardeningModule), as they depend on the route.
 */
export function applyHttpHardening(app: INestApplication, http: HttpConfig): void {
  const express = app as NestExpressApplication;
  express.use(
    helmet({
      // The services speak plain HTTP behind whatever terminates TLS; upgrading the docs
      // page's assets to https:// would break Swagger UI on http://localhost.
      contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
    }),
  );
  // No ETag: the API's answers are fresh state (an order settles, stock moves), nobody
  // revalidates them, and Express would hash every response body to make one.
  express.set('etag', false);
  // Nest registers its own parsers only where none is: these replace them.
  express.useBodyParser('json', { limit: http.bodyLimit });
  express.useBodyParser('urlencoded', { limit: http.bodyLimit, extended: false });
  express.use(bodyParserErrors(http.bodyLimit));
}

interface ParserError {
  status?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

/** Errors of the body parsers would otherwise reach Express' HTML error page. */
function bodyParserErrors(limit: string) {
  return (error: ParserError, _req: Request, res: Response, next: NextFunction): void => {
    const status = error.status ?? 500;
    if (status >= 500 || res.headersSent) return next(error);
    const message =
      error.type === 'entity.too.large'
        ? `Request body is larger than ${limit}`
        : error.type === 'entity.parse.failed'
          ? 'Request body is not valid JSON'
          : error.expose && error.message
            ? error.message
            : 'Request body could not be read';
    res.status(status).json(errorBody(status, message));
  };
}
