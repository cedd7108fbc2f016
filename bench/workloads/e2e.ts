import autocannon from 'autocannon';
import { TestSystem } from '../../test/support/system.js';
import { http, testApiKeys } from '../../test/support/http.js';
import { type Measurement, latencyPercentiles, summarise } from '../stats.js';
import type { ResultRow } from '../table.js';
import { type BenchContext, describe } from '../support/compare.js';

/** Orders spread over several SKUs, as real traffic is, so one stock row's lock is not all we measure. */
const SKUS = Array.from({ length: 16 }, (_, i) => `BENCH-${String(i).padStart(2, '0')}`);
const STOCK_PER_SKU = 1_000_000_000;

/**
 * Workload 4: `POST /orders` → inventory.reserve (RPC) → PostgreSQL → outbox → order.confirmed
 * → notification → SMTP, the three apps booted in this process exactly as the e2e suites boot
 * them (test/support/system.ts), on a fresh database and vhost. Orders/s and latency come from
 * the HTTP load; the e-mail figure is when the last order's e-mail arrived, from the start.
 */
export async function e2eWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { scale, reps } = ctx.config;
  const system = await TestSystem.start('bench', {
    env: { LOG_LEVEL: 'error', RPC_TIMEOUT_MS: '10000' },
  });
  try {
    for (const sku of SKUS) {
      const res = await http('PUT', system.url('inventory', `/stock/${sku}`), {
        available: STOCK_PER_SKU,
      });
      if (res.status !== 200) throw new Error(`setting stock of ${sku}: HTTP ${res.status}`);
    }
    if (scale.e2eWarmupSeconds > 0)
      await placeOrders(system, scale.e2eConnections, scale.e2eWarmupSeconds);
    const measured: Measurement[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const m = await placeOrders(system, scale.e2eConnections, scale.e2eSeconds);
      ctx.log(`e2e POST /orders | rep ${rep + 1}: ${describe(m)}`);
      measured.push(m);
    }
    return [
      {
        group: 'e2e',
        workload: `e2e POST /orders, ${scale.e2eConnections} connections`,
        variant: 'ours (3 apps in-process)',
        note: 'load generator in the same process',
        reps: measured,
        summary: summarise(measured),
      },
    ];
  } finally {
    await system.stop();
  }
}

async function placeOrders(
  system: TestSystem,
  connections: number,
  seconds: number,
): Promise<Measurement> {
  const mailsBefore = system.smtp.mails.length;
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: system.url('order', ''),
        connections,
        duration: seconds,
        requests: [
          {
            method: 'POST',
            path: '/orders',
            headers: { 'content-type': 'application/json', 'x-api-key': testApiKeys.write },
            setupRequest: (request) => {
              const i = next++;
              return {
                ...request,
                body: JSON.stringify({
                  customerEmail: `buyer${i}@example.com`,
                  items: [{ sku: SKUS[i % SKUS.length], quantity: 1 }],
                }),
              };
            },
          },
        ],
      },
      (error, result) => (error ? reject(error as Error) : resolve(result)),
    );
    instance.on('response', (_client, statusCode: number, _bytes, responseTime: number) => {
      if (statusCode === 201) latencies.push(responseTime);
    });
  });
  const created = result['2xx'];
  if (created === 0)
    throw new Error(`no order was created (${result.non2xx} non-2xx, ${result.errors} errors)`);
  // Every placed order, confirmed or rejected, sends exactly one e-mail.
  const expected = mailsBefore + created;
  await untilMails(system, expected, 120_000);
  const lastMailMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    throughput: created / ((result.finish.getTime() - result.start.getTime()) / 1000),
    ...latencyPercentiles(latencies),
    extra: {
      'last e-mail after ms': lastMailMs,
      'failed requests': result.non2xx + result.errors + result.timeouts,
      // Everything runs here: the three apps, the SMTP server and the load generator.
      'node CPU µs/order': (cpu.user + cpu.system) / created,
    },
  };
}

/** Polls the SMTP sink every 2 ms (the resolution of the e-mail figure). */
async function untilMails(system: TestSystem, count: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (system.smtp.mails.length < count) {
    if (performance.now() > deadline) {
      throw new Error(
        `only ${system.smtp.mails.length} of ${count} e-mails arrived in ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}
