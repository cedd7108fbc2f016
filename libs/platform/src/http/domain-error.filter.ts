import { type ArgumentsHost, Catch, HttpException } from '@nestjs/common';
import { type AbstractHttpAdapter, BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import { type Observable, throwError } from 'rxjs';

/**
 * The one global filter of a service, for both of its faces:
 * - HTTP: domain errors (any Error with a stable string `code`) become responses with the
 *   status the app mapped for that code, so domain code never imports HTTP;
 * - messages: the error passes through unchanged. Nest's default RPC filter would replace it
 *   with "Internal server error", but the AMQP transport needs the original: its class decides
 *   retry vs dead-letter and its `code` goes into the RPC error reply.
 */
@Catch()
export class DomainErrorFilter extends BaseExceptionFilter {
  constructor(
    private readonly statusByCode: Readonly<Record<string, number>>,
    httpAdapter?: AbstractHttpAdapter,
  ) {
    super(httpAdapter);
  }

  override catch(exception: unknown, host: ArgumentsHost): void | Observable<never> {
    if (host.getType() === 'rpc') return throwError(() => exception);
    const code = (exception as { code?: unknown } | null)?.code;
    const status = typeof code === 'string' ? this.statusByCode[code] : undefined;
    if (host.getType() !== 'http' || exception instanceof HttpException || status === undefined) {
      return super.catch(exception, host);
    }
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(status)
      .json({ statusCode: status, error: code, message: (exception as Error).message });
  }
}
