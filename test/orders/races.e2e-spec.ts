import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rpcQueue } from '@app/messaging';
import { waitFor } from '@app/messaging/testing';
import { MetricNames } from '@app/platform';
import { http, type HttpResult } from '../support/http.js';
import { scrape } from '../support/metrics.js';
import { TestSystem } from '../support/system.js';

interface OrderBody {
  id: string;
  status: string;
  rejection?: { reason: string };
}

/** Requests that race each other on one order, one key or one row; two inventory instances. */
describe('races', () => {
  let system: TestSystem;
  let replicaUrl: string;

  beforeAll(async () => {
    // A generous timeout: contention must show as what it is, not as RPC timeouts.
    system = await TestSystem.start('races', {
      services: ['order', 'inventory'],
      env: { RPC_TIMEOUT_MS: '20000' },
    });
    replicaUrl = await system.startReplica('inventory');
  });

  afterAll(() => system?.stop());

  const place = (
    items: { sku: string; quantity: number }[],
    headers = {},
    email = 'r@example.com',
  ) =>
    http<OrderBody>(
      'POST',
      system.url('order', '/orders'),
      { customerEmail: email, items },
      headers,
    );
  const available = async (sku: string) =>
    (await http('GET', system.url('inventory', `/stock/${sku}`))).body.available as number;
  const serverErrors = (results: HttpResult[]) =>
    results.filter((r) => r.status >= 500).map((r) => `${r.status} ${JSON.stringify(r.body)}`);

  it('creates one order per Idempotency-Key sent five times at once, and every answer names it', async () => {
    const sku = await system.stockNewSku(1_000);
    const keys = Array.from({ length: 20 }, () => randomUUID());
    const answers = await Promise.all(
      keys.flatMap((key) =>
        Array.from({ length: 5 }, async () => {
          const res = await place(
            [{ sku, quantity: 1 }],
            { 'idempotency-key': key },
            `${key}@example.com`,
          );
          return { key, res };
        }),
      ),
    );

    expect(serverErrors(answers.map((a) => a.res))).toEqual([]);
    expect(answers.filter((a) => a.res.status !== 201)).toEqual([]);
    const idsPerKey = keys.map(
      (key) => new Set(answers.filter((a) => a.key === key).map((a) => a.res.body.id)),
    );
    expect(idsPerKey.map((ids) => ids.size)).toEqual(keys.map(() => 1));
    const stored = await system.query<{ key: string; orders: number }>(
      `select idempotency_key as key, count(*)::int as orders from orders.orders
        where idempotency_key = any($1) group by idempotency_key`,
      [keys],
    );
    expect(stored).toHaveLength(keys.length);
    expect(stored.every((row) => row.orders === 1)).toBe(true);
    expect(await available(sku)).toBe(1_000 - keys.length);
  });

  it('settles each order once when the client cancels it while it is being settled', async () => {
    const sku = await system.stockNewSku(10);
    // Accepted PENDING (respond-async): each settles while its cancel is on the way.
    const accepted = await Promise.all(
      Array.from({ length: 15 }, () => place([{ sku, quantity: 1 }], { prefer: 'respond-async' })),
    );
    expect(accepted.map((r) => r.status)).toEqual(accepted.map(() => 202));

    // A client that insists: cancels until the order is cancelled or can never be.
    const cancels = await Promise.all(
      accepted.map(async ({ body: { id } }) => {
        const answers: HttpResult[] = [];
        for (;;) {
          const res = await http('POST', system.url('order', `/orders/${id}/cancel`));
          answers.push(res);
          if (res.status !== 409) return answers;
          const now = await http<OrderBody>('GET', system.url('order', `/orders/${id}`));
          // Refused while PENDING, and settled since: cancel again if it was confirmed.
          if (now.body.status !== 'PENDING' && now.body.status !== 'CONFIRMED') return answers;
        }
      }),
    );

    expect(serverErrors(cancels.flat())).toEqual([]);
    expect(cancels.flat().filter((r) => r.status !== 200 && r.status !== 409)).toEqual([]);
    const final = await Promise.all(
      accepted.map(
        async ({ body: { id } }) =>
          (await http<OrderBody>('GET', system.url('order', `/orders/${id}`))).body,
      ),
    );
    // 10 units for 15 orders: the cancelled ones are CANCELLED, the rest were never confirmed.
    expect(final.filter((o) => !['CANCELLED', 'REJECTED'].includes(o.status))).toEqual([]);
    cancels.forEach((answers, i) => {
      expect(answers.at(-1)!.status === 200).toBe(final[i]!.status === 'CANCELLED');
    });
    expect(final.some((o) => o.status === 'CANCELLED')).toBe(true);
    // The race happened: some cancels came while the order was still PENDING (409).
    expect(cancels.some((answers) => answers.length > 1)).toBe(true);
    // Each cancelled order's stock came back once: twice would make it more than 10.
    await waitFor(
      'every cancelled order’s stock to be released',
      async () => (await available(sku)) === 10,
    );
    const released = await system.query<{ n: number }>(
      `select count(*)::int as n from inventory.reservations where order_id = any($1) and status = 'RESERVED'`,
      [final.map((o) => o.id)],
    );
    expect(released[0]!.n).toBe(0);
  });

  it('never oversells scarce stock that two inventory instances reserve at once', async () => {
    const sku = await system.stockNewSku(30);
    const replied = async (url: string) =>
      (await scrape(`${url}/metrics`)).sum(MetricNames.messagesHandled, {
        queue: rpcQueue('inventory'),
      });
    const before = [await replied(system.url('inventory', '')), await replied(replicaUrl)];

    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        place([{ sku, quantity: 1 }], {}, `buyer${i}@example.com`),
      ),
    );

    expect(serverErrors(results)).toEqual([]);
    expect(results.filter((r) => r.body.status === 'CONFIRMED')).toHaveLength(30);
    const rejected = results.filter((r) => r.body.status === 'REJECTED');
    expect(rejected).toHaveLength(90);
    expect(rejected.every((r) => r.body.rejection?.reason === 'OUT_OF_STOCK')).toBe(true);
    expect(await available(sku)).toBe(0);
    // Both instances took part.
    const after = [await replied(system.url('inventory', '')), await replied(replicaUrl)];
    expect(after[0]! - before[0]!).toBeGreaterThan(0);
    expect(after[1]! - before[1]!).toBeGreaterThan(0);
  });

  it('confirms orders that lock the same SKUs in opposite orders, with no deadlock reaching a client', async () => {
    const [a, b] = [await system.stockNewSku(1_000), await system.stockNewSku(1_000)];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        place(
          i % 2 === 0
            ? [
                { sku: a, quantity: 1 },
                { sku: b, quantity: 1 },
              ]
            : [
                { sku: b, quantity: 1 },
                { sku: a, quantity: 1 },
              ],
        ),
      ),
    );

    expect(serverErrors(results)).toEqual([]);
    expect(results.filter((r) => r.body.status !== 'CONFIRMED').map((r) => r.body)).toEqual([]);
    expect([await available(a), await available(b)]).toEqual([940, 940]);
  });
});
