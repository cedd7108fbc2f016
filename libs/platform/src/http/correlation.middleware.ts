import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { MessageContext } from '@app/messaging';

const HEADER = 'x-request-id';
const SAFE_ID = /^[\w.:-]{1,128}$/;

/** One correlation id per request (the caller's X-Request-Id or a new one), echoed back. */
export function correlationMiddleware(req: Request, res: Response, next: NextFunction): void {
  const given = req.header(HEADER);
  const correlationId = given && SAFE_ID.test(given) ? given : randomUUID();
  res.setHeader(HEADER, correlationId);
  MessageContext.run({ correlationId }, next);
}
