import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { http } from '../support/http.js';
import { TestSystem } from '../support/system.js';

describe('concurrent orders for scarce stock', () => {
  let system: TestSystem;

  beforeAll(async () => {
    // No e-mails needed here; a generous timeout keeps a slow CI machine from turning contention into rejections.
    system = await TestSystem.start('race', {
      services: ['order', 'inventory'],
      env: { RPC_TIMEOUT_MS: '20000' },
    });
  });

  afterAll(() => system?.stop());

  it('confirms exactly as many orders as there are units and never oversells', async () => {
    await http('PUT', system.url('inventory', '/stock/RACE-1'), { available: 50 });

    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        http('POST', system.url('order', '/orders'), {
          customerEmail: `buyer${i}@example.com`,
          items: [{ sku: 'RACE-1', quantity: 1 }],
        }),
      ),
    );

    expect(results.every((r) => r.status === 201)).toBe(true);
    const confirmed = results.filter((r) => r.body.status === 'CONFIRMED');
    const rejected = results.filter((r) => r.body.status === 'REJECTED');
    expect(confirmed).toHaveLength(50);
    expect(rejected).toHaveLength(150);
    expect(rejected.every((r) => r.body.rejection.reason === 'OUT_OF_STOCK')).toBe(true);
    expect((await http('GET', system.url('inventory', '/stock/RACE-1'))).body.available).toBe(0);
  });
});
