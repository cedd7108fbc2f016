import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http, testApiKeys } from '../support/http.js';
import { openSse } from '../support/sse.js';
import { TestSystem } from '../support/system.js';

/**
 * Who may call what over HTTP (docs/security.md): every route × every kind of caller. `web`
 * holds a read and a write key, `partner` is another client with a write key, `ops` the admin.
 */
type Caller = 'none' | 'read' | 'write' | 'admin' | 'partner';
const CALLERS: Caller[] = ['none', 'read', 'write', 'admin', 'partner'];
const KEY: Record<Caller, string> = {
  none: '',
  read: testApiKeys.read,
  write: testApiKeys.write,
  admin: testApiKeys.admin,
  partner: testApiKeys.partner,
};

describe('HTTP authorization', () => {
  let system: TestSystem;
  let sku: string;
  /** An order of `web`'s (placed with its write key), confirmed. */
  let webOrder: string;
  /** An order of `partner`'s. */
  let partnerOrder: string;

  const as = (caller: Caller, method: string, url: string, body?: unknown) =>
    http(method, url, body, { 'x-api-key': KEY[caller] });
  const place = (caller: Caller, headers: Record<string, string> = {}, email = 'a@example.com') =>
    http(
      'POST',
      system.url('order', '/orders'),
      { customerEmail: email, items: [{ sku, quantity: 1 }] },
      { 'x-api-key': KEY[caller], ...headers },
    );

  beforeAll(async () => {
    system = await TestSystem.start('authz', { env: { SSE_MAX_STREAMS_PER_CLIENT: '2' } });
    sku = await system.stockNewSku(1_000, 'AUTHZ');
    webOrder = (await place('write')).body.id;
    partnerOrder = (await place('partner')).body.id;
  });

  afterAll(async () => {
    await system?.stop();
  });

  /** Route × caller → status, as docs/security.md's table says. */
  const matrix: [string, (caller: Caller) => Promise<{ status: number }>, number[]][] = [
    ['POST /orders', (c) => place(c), [401, 403, 201, 201, 201]],
    ['GET /orders', (c) => as(c, 'GET', system.url('order', '/orders')), [401, 200, 200, 200, 200]],
    [
      "GET /orders/:id (web's)",
      (c) => as(c, 'GET', system.url('order', `/orders/${webOrder}`)),
      [401, 200, 200, 200, 404],
    ],
    [
      "GET /orders/:id/events (web's)",
      async (c) => {
        const stream = await openSse(
          system.url('order', `/orders/${webOrder}/events`),
          5_000,
          KEY[c],
        );
        for await (const _ of stream.events); // a settled order: one event, then the end
        return stream;
      },
      [401, 200, 200, 200, 404],
    ],
    [
      "POST /orders/:id/cancel (partner's)",
      (c) => as(c, 'POST', system.url('order', `/orders/${partnerOrder}/cancel`)),
      [401, 403, 404, 200, 200],
    ],
    [
      'GET /metrics',
      (c) => as(c, 'GET', system.url('order', '/metrics')),
      [401, 403, 403, 200, 403],
    ],
    [
      'GET /docs-json',
      (c) => as(c, 'GET', system.url('order', '/docs-json')),
      [401, 403, 403, 200, 403],
    ],
    ['GET /docs', (c) => as(c, 'GET', system.url('order', '/docs')), [401, 403, 403, 200, 403]],
    [
      'GET /health/live',
      (c) => as(c, 'GET', system.url('order', '/health/live')),
      [200, 200, 200, 200, 200],
    ],
    [
      'GET /health/ready',
      (c) => as(c, 'GET', system.url('order', '/health/ready')),
      [200, 200, 200, 200, 200],
    ],
    [
      'GET /stock/:sku',
      (c) => as(c, 'GET', system.url('inventory', `/stock/${sku}`)),
      [401, 200, 200, 200, 200],
    ],
    [
      'PUT /stock/:sku',
      (c) => as(c, 'PUT', system.url('inventory', `/stock/${sku}`), { available: 1_000 }),
      [401, 403, 403, 200, 403],
    ],
    [
      'GET /notifications',
      (c) => as(c, 'GET', system.url('notification', '/notifications')),
      [401, 403, 403, 200, 403],
    ],
  ];

  it.each(matrix)('%s answers each caller as documented', async (_route, call, expected) => {
    const statuses: number[] = [];
    for (const caller of CALLERS) statuses.push((await call(caller)).status);
    expect(Object.fromEntries(CALLERS.map((c, i) => [c, statuses[i]]))).toEqual(
      Object.fromEntries(CALLERS.map((c, i) => [c, expected[i]])),
    );
  });

  it("lists a client's own orders only; an admin key lists everyone's", async () => {
    const ids = async (caller: Caller) =>
      (
        (await as(caller, 'GET', system.url('order', '/orders?limit=100'))).body.items as {
          id: string;
        }[]
      ).map((o) => o.id);

    expect(await ids('read')).toContain(webOrder);
    expect(await ids('read')).not.toContain(partnerOrder);
    expect(await ids('partner')).toContain(partnerOrder);
    expect(await ids('partner')).not.toContain(webOrder);
    expect(await ids('admin')).toEqual(expect.arrayContaining([webOrder, partnerOrder]));
  });

  it('keeps Idempotency-Keys per client: the same key from two clients makes two orders', async () => {
    const key = { 'Idempotency-Key': `shared-${randomUUID()}` };
    const web = await place('write', key, 'web@example.com');
    const partner = await place('partner', key, 'partner@example.com');
    const again = await place('write', key, 'web@example.com');

    expect([web.status, partner.status, again.status]).toEqual([201, 201, 201]);
    expect(partner.body.id).not.toBe(web.body.id);
    expect(partner.body.customerEmail).toBe('partner@example.com');
    expect(again.body.id).toBe(web.body.id);
  });

  it('answers a cursor beyond any sequence number with 400, not a 500', async () => {
    const cursor = Buffer.from('seq:9999999999999999999').toString('base64url');
    const res = await as('read', 'GET', system.url('order', `/orders?cursor=${cursor}`));

    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, error: 'ORDER.INVALID_CURSOR' });
  });

  it('caps the status streams a client holds open at once', async () => {
    // PENDING orders of web's, as if their reservation were still under way.
    const pending = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of pending) {
      await system.query(
        `insert into orders.orders (id, status, customer_email, items, client_id)
         values ($1, 'PENDING', 'sse@example.com', '[{"sku":"X1","quantity":1}]', 'web')`,
        [id],
      );
    }
    const url = (id: string) => system.url('order', `/orders/${id}/events`);
    const abort = new AbortController();
    try {
      const open = [
        await openSse(url(pending[0]!), 20_000, KEY.read, abort.signal),
        await openSse(url(pending[1]!), 20_000, KEY.write, abort.signal),
      ];
      expect(open.map((s) => s.status)).toEqual([200, 200]);

      const third = await openSse(url(pending[2]!), 5_000, KEY.read);
      expect(third.status).toBe(429);
      // Another client is not held back by web's streams (an admin may read web's order).
      const admin = await openSse(url(pending[2]!), 20_000, KEY.admin, abort.signal);
      expect(admin.status).toBe(200);
    } finally {
      abort.abort();
    }
  });
});
