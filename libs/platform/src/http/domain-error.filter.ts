import {
  type ArgumentsHost,
  Catch,
  HttpException,
  Logger,
  ServiceUnavailableException,
} from '@nestjs/common';
import { type AbstractHttpAdapter, BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import { type ErrorBody, errorBody } from './error-body.js';

/**
 * The HTTP API's global filter: every error becomes the same body (`ErrorBody`: statusCode,
 * error, message, issues?), except a failed health check, whose 503 keeps terminus' report of
 * each check. Domain errors (any Error with a stable string `code`) get the status the app
 * mapped for that code, so domain code never imports HTTP; Nest's own exceptions (404 route,
 * 401, 429) keep their status; anything else is a logged 500 that reveals nothing. Messages
 * have a filter of their own (MessageErrorFilter, see connectMessaging).
 */
@Catch()
export class DomainErrorFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('HttpErrors');

  constructor(
    private readonly statusByCode: Readonly<Record<string, number>>,
    httpAdapter?: AbstractHttpAdapter,
  ) {
    super(httpAdapter);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(exception, host);
    const body = this.toBody(exception);
    const res = host.switchToHttp().getResponse<Response>();
    // A streamed response (SSE) that fails half-way can only be ended.
    if (res.headersSent) {
      res.end();
      return;
    }
    // A failed health check keeps terminus' body: probes and operators read which check is down.
    if (isHealthCheckFailure(exception)) {
      res.status(503).json(exception.getResponse());
      return;
    }
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) return fromHttpException(exception);
    const code = (exception as { code?: unknown } | null)?.code;
    const status = typeof code === 'string' ? this.statusByCode[code] : undefined;
    if (status !== undefined) {
      return errorBody(status, (exception as Error).message, { error: code as string });
    }
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return errorBody(500, 'Internal server error');
  }
}

/** What `HealthCheckService.check` throws: `{ status, info, error, details }` of every check. */
function isHealthCheckFailure(exception: unknown): exception is ServiceUnavailableException {
  if (!(exception instanceof ServiceUnavailableException)) return false;
  const response = exception.getResponse();
  return typeof response === 'object' && 'details' in response && 'status' in response;
}

function fromHttpException(exception: HttpException): ErrorBody {
  const status = exception.getStatus();
  const response = exception.getResponse();
  if (typeof response === 'string') return errorBody(status, response);
  const { message, error, issues } = response as {
    message?: unknown;
    error?: unknown;
    issues?: ErrorBody['issues'];
  };
  return errorBody(
    status,
    Array.isArray(message) ? message.join('; ') : String(message ?? exception.message),
    { error: typeof error === 'string' ? error : undefined, issues },
  );
}
