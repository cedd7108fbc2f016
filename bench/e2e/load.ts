/**
 * The end-to-end workload's load generator, in a process of its own: autocannon sends
 * `POST /orders` over LOAD_CONNECTIONS keep-alive connections for LOAD_SECONDS, each order
 * for one unit of one of LOAD_SKUS (round robin) from a customer of its own, and prints one
 * JSON line (`LoadResult`) with what it measured, its own CPU included.
 */
import autocannon from 'autocannon';
import { latencyPercentiles } from '../stats.js';

export interface LoadResult {
  created: number;
  failed: number;
  /** Wall clock (ms since the epoch) of the first request and of the end of the run. */
  startedAt: number;
  finishedAt: number;
  p50: number;
  p99: number;
  /** This process's CPU while the load ran, ms. */
  cpuMs: number;
}

const url = process.env.LOAD_URL!;
const connections = Number(process.env.LOAD_CONNECTIONS);
const seconds = Number(process.env.LOAD_SECONDS);
const skus = process.env.LOAD_SKUS!.split(',');
const apiKey = process.env.LOAD_API_KEY ?? '';
const customer = process.env.LOAD_CUSTOMER ?? 'buyer';

const latencies: number[] = [];
let next = 0;
const cpuBefore = process.cpuUsage();
const startedAt = Date.now();
const result = await new Promise<autocannon.Result>((resolve, reject) => {
  const instance = autocannon(
    {
      url,
      connections,
      duration: seconds,
      requests: [
        {
          method: 'POST',
          path: '/orders',
          headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
          setupRequest: (request) => {
            const i = next++;
            return {
              ...request,
              body: JSON.stringify({
                customerEmail: `${customer}${i}@example.com`,
                items: [{ sku: skus[i % skus.length], quantity: 1 }],
              }),
            };
          },
        },
      ],
    },
    (error, res) => (error ? reject(error as Error) : resolve(res)),
  );
  instance.on('response', (_client, statusCode: number, _bytes, responseTime: number) => {
    if (statusCode === 201) latencies.push(responseTime);
  });
});
const cpu = process.cpuUsage(cpuBefore);
const out: LoadResult = {
  created: latencies.length,
  failed: result.non2xx + result.errors + result.timeouts,
  startedAt,
  finishedAt: Date.now(),
  ...(latencies.length > 0 ? latencyPercentiles(latencies) : { p50: NaN, p99: NaN }),
  cpuMs: (cpu.user + cpu.system) / 1000,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
