import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, testApiKeys } from '../support/http.js';
import { TestSystem } from '../support/system.js';

const NO_KEY = { 'x-api-key': '' };
const order = { customerEmail: 'ada@example.com', items: [{ sku: 'HARD-1', quantity: 1 }] };
/** The one error body: exactly these keys, `issues` only for validation failures. */
const errorBody = (statusCode: number) => ({
  statusCode,
  error: expect.any(String),
  message: expect.any(String),
});

describe('HTTP hardening', () => {
  let system: TestSystem;

  beforeAll(async () => {
    system = await TestSystem.start('hardening', { env: { HTTP_BODY_LIMIT: '10kb' } });
  });

  afterAll(() => system?.stop());

  describe('API keys', () => {
    it('refuses the write endpoints without a key or with an unknown one (401)', async () => {
      const id = randomUUID();
      const calls = [
        () => ['POST', system.url('order', '/orders'), order] as const,
        () => ['POST', system.url('order', `/orders/${id}/cancel`), undefined] as const,
        () => ['PUT', system.url('inventory', '/stock/HARD-1'), { available: 5 }] as const,
      ];
      for (const call of calls) {
        const [method, url, body] = call();
        const none = await http(method, url, body, NO_KEY);
        expect(none.status).toBe(401);
        expect(none.body).toEqual({
          ...errorBody(401),
          error: 'Unauthorized',
          message: 'This endpoint needs an API key in x-api-key',
        });
        const unknown = await http(method, url, body, { 'x-api-key': 'not-a-key-of-ours-000' });
        expect(unknown.status).toBe(401);
        expect(unknown.body.message).toBe('Unknown API key');
      }
    });

    it('takes a write key on the write endpoints but not on the admin one (403)', async () => {
      const write = { 'x-api-key': testApiKeys.write };
      const stock = await http(
        'PUT',
        system.url('inventory', '/stock/HARD-1'),
        { available: 5 },
        write,
      );
      expect(stock.status).toBe(403);
      expect(stock.body).toEqual({ ...errorBody(403), error: 'Forbidden' });

      const admin = { 'x-api-key': testApiKeys.admin };
      expect(
        (await http('PUT', system.url('inventory', '/stock/HARD-1'), { available: 5 }, admin))
          .status,
      ).toBe(200);
      const placed = await http('POST', system.url('order', '/orders'), order, write);
      expect(placed.status).toBe(201);
      expect(placed.body.status).toBe('CONFIRMED');
      const cancelled = await http(
        'POST',
        system.url('order', `/orders/${placed.body.id}/cancel`),
        undefined,
        write,
      );
      expect(cancelled.status).toBe(200);
    });

    it('needs a key to read too; a read key reads but does not write (403)', async () => {
      expect((await http('GET', system.url('order', '/orders'), undefined, NO_KEY)).status).toBe(
        401,
      );
      const read = { 'x-api-key': testApiKeys.read };
      expect((await http('GET', system.url('order', '/orders'), undefined, read)).status).toBe(200);
      expect(
        (await http('GET', system.url('inventory', '/stock/HARD-1'), undefined, read)).status,
      ).toBe(200);
      expect((await http('POST', system.url('order', '/orders'), order, read)).status).toBe(403);
    });
  });

  it('answers a body over HTTP_BODY_LIMIT with 413 and the error body', async () => {
    const res = await http('POST', system.url('order', '/orders'), {
      ...order,
      customerEmail: `${'a'.repeat(11 * 1024)}@example.com`,
    });

    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'Request body is larger than 10kb',
    });
  });

  it('refuses unknown query parameters with 400 naming them', async () => {
    const orders = await http('GET', system.url('order', '/orders?status=CONFIRMED&colour=red'));
    expect(orders.status).toBe(400);
    expect(orders.body).toEqual({
      ...errorBody(400),
      error: 'Bad Request',
      issues: [{ path: '(root)', message: 'Unrecognized key: "colour"' }],
    });

    const sent = await http('GET', system.url('notification', '/notifications?order=1'));
    expect(sent.status).toBe(400);
    expect(sent.body.issues[0].message).toContain('"order"');
  });

  it('answers an unknown route, malformed JSON and a bad id with the same error body', async () => {
    const route = await http('GET', system.url('order', '/nowhere'));
    expect(route.status).toBe(404);
    expect(route.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Cannot GET /nowhere',
    });

    const json = await http('POST', system.url('order', '/orders'), '{"customerEmail":', {
      'content-type': 'application/json',
    });
    expect(json.status).toBe(400);
    expect(json.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Request body is not valid JSON',
    });

    const id = await http('GET', system.url('order', '/orders/not-a-uuid'));
    expect(id.status).toBe(400);
    expect(id.body).toEqual({ ...errorBody(400), error: 'Bad Request' });

    const missing = await http('GET', system.url('order', `/orders/${randomUUID()}`));
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ ...errorBody(404), error: 'ORDER.NOT_FOUND' });
  });

  it('sends helmet’s security headers on the API and the docs, and no X-Powered-By or ETag', async () => {
    for (const url of [system.url('order', '/orders'), system.url('inventory', '/docs')]) {
      const { headers } = await http('GET', url);
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(headers.get('strict-transport-security')).toContain('max-age=');
      expect(headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
      expect(headers.get('x-powered-by')).toBeNull();
      expect(headers.get('etag')).toBeNull();
    }
  });
});
