import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RabbitAdmin, withVhost } from '@app/messaging/testing';
import { createTestDatabase } from '../support/database.js';
import { testEnv } from '../support/env.js';
import { http } from '../support/http.js';
import { SourceService } from '../support/source-service.js';

const LIMIT = 5;
const KEY = { a: 'rate-limit-key-aaaa', b: 'rate-limit-key-bbbb', admin: 'rate-limit-key-admin' };
const API_KEYS = `a:read:${KEY.a},b:read:${KEY.b},ops:admin:${KEY.admin}`;

/**
 * In a real Node process: @nestjs/throttler (CommonJS requiring ESM-only Nest 12) loads in
 * Node, not in jest's module runtime on Node < 24.9 (see HttpHardeningModule).
 */
describe('the rate limit', () => {
  const admin = new RabbitAdmin(testEnv.managementUrl);
  let vhost: string;
  let dropDatabase: () => Promise<void>;
  let order: SourceService;

  beforeAll(async () => {
    vhost = await admin.createVhost('test-rate-limit');
    const database = await createTestDatabase('rate_limit');
    dropDatabase = database.drop;
    order = await SourceService.start('order', {
      RABBITMQ_URL: withVhost(testEnv.rabbitUrl, vhost),
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
      HTTP_RATE_LIMIT: String(LIMIT),
      API_KEYS,
    });
  }, 90_000);

  afterAll(async () => {
    await order?.stop();
    await admin.deleteVhost(vhost);
    await dropDatabase?.();
  });

  it('answers 429 with Retry-After and the error body once a client is over the limit', async () => {
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof http>> | undefined;
    // Bounded: the limit plus a few.
    for (let i = 0; i < LIMIT + 3 && !limited; i++) {
      const res = await http('GET', `${order.url}/orders?limit=1`, undefined, {
        'x-api-key': KEY.a,
      });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }

    expect(statuses).toEqual([...Array<number>(LIMIT).fill(200), 429]);
    expect(limited!.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `Too many requests: at most ${LIMIT} a minute`,
    });
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('never limits the health and metrics endpoints', async () => {
    for (let i = 0; i < LIMIT + 2; i++) {
      expect((await http('GET', `${order.url}/health/live`)).status).toBe(200);
    }
    for (let i = 0; i < LIMIT + 2; i++) {
      const metrics = await http('GET', `${order.url}/metrics`, undefined, {
        'x-api-key': KEY.admin,
      });
      expect(metrics.status).toBe(200);
    }
  });

  it('counts a client that sends a configured key by its client, not its address', async () => {
    const first = await http('GET', `${order.url}/orders?limit=1`, undefined, {
      'x-api-key': KEY.b,
    });

    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
    expect(first.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - 1));
  });

  it('limits requests without a valid key by address, before they are refused', async () => {
    const unknown = { 'x-api-key': 'made-up-key-0000000' };
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 1; i++)
      statuses.push((await http('GET', `${order.url}/orders`, undefined, unknown)).status);

    expect(statuses).toEqual([...Array<number>(LIMIT).fill(401), 429]);
  });
});
