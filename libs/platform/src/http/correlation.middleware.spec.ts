import { describe, expect, it } from '@jest/globals';
import type { Request, Response } from 'express';
import { MessageContext } from '@app/messaging';
import { correlationMiddleware } from './correlation.middleware.js';

/** The id the middleware answers with and runs the request under, for one X-Request-Id. */
function correlate(given: string | undefined): { echoed: string; inContext?: string } {
  const headers: Record<string, string> = {};
  const req = { header: () => given } as unknown as Request;
  const res = { setHeader: (k: string, v: string) => (headers[k] = v) } as unknown as Response;
  let inContext: string | undefined;
  correlationMiddleware(req, res, () => (inContext = MessageContext.correlationId()));
  return { echoed: headers['x-request-id']!, inContext };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('correlationMiddleware (README, "Logs")', () => {
  it.each(['checkout-42', 'a', 'Tenant_7:req.9-x', 'x'.repeat(128)])(
    'keeps the X-Request-Id %s and runs the request under it',
    (id) => {
      expect(correlate(id)).toEqual({ echoed: id, inContext: id });
    },
  );

  it.each([undefined, '', 'x'.repeat(129), 'has space', 'semi;colon', 'ünï', 'a/b', '<script>'])(
    'replaces the X-Request-Id %p with a new UUID',
    (id) => {
      const { echoed, inContext } = correlate(id);
      expect(echoed).toMatch(UUID);
      expect(inContext).toBe(echoed);
    },
  );
});
