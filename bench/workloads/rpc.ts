import { cpuMicrosPerOp, type Measurement, latencyPercentiles } from '../stats.js';
import type { ResultRow } from '../table.js';
import { type BenchContext, compare, type Scenario } from '../support/compare.js';
import { type BenchBody, makeBody } from '../support/payload.js';
import { layerRpc } from '../variants/layer.js';
import { nestRpc } from '../variants/nest-rmq.js';
import { rawRpc } from '../variants/raw.js';
import type { RpcTarget } from '../variants/types.js';

/** Workloads 1 and 2: RPC with one call in flight, then with many (64, 256). */
export async function rpcWorkloads(ctx: BenchContext): Promise<ResultRow[]> {
  const { scale, size, workloads } = ctx.config;
  const body = makeBody(size);
  const scenarios: Scenario<RpcTarget>[] = [];
  if (workloads.includes('rpc-sequential')) {
    scenarios.push({
      group: 'rpc-sequential',
      workload: 'rpc, 1 in flight',
      measure: (t) => drive(t, body, 1, scale.rpcSequentialCalls),
    });
  }
  if (workloads.includes('rpc-concurrent')) {
    for (const inFlight of scale.inFlight) {
      scenarios.push({
        group: 'rpc-concurrent',
        workload: `rpc, ${inFlight} in flight`,
        measure: (t) => drive(t, body, inFlight, scale.rpcConcurrentCalls),
      });
    }
  }
  if (scenarios.length === 0) return [];
  const settings = ctx.config;
  return compare(
    ctx,
    [rawRpc(settings), layerRpc(settings), nestRpc(settings)],
    async (t) => {
      await drive(t, body, 64, scale.warmupCalls);
      await drive(t, body, 1, Math.ceil(scale.warmupCalls / 10));
    },
    scenarios,
  );
}

export const CPU_PER_OP = 'node CPU µs/op';

/** `total` calls with `inFlight` of them outstanding at any time; each call's latency kept. */
export async function drive(
  target: RpcTarget,
  body: BenchBody,
  inFlight: number,
  total: number,
): Promise<Measurement> {
  const latencies = new Float64Array(total);
  let issued = 0;
  const worker = async () => {
    while (issued < total) {
      const i = issued++;
      const start = performance.now();
      await target.call(body);
      latencies[i] = performance.now() - start;
    }
  };
  const start = performance.now();
  const { cpuMicrosPerOp: cpu } = await cpuMicrosPerOp(total, () =>
    Promise.all(Array.from({ length: Math.min(inFlight, total) }, worker)),
  );
  const elapsedMs = performance.now() - start;
  return {
    throughput: (total * 1000) / elapsedMs,
    ...latencyPercentiles(latencies),
    extra: { [CPU_PER_OP]: cpu },
  };
}
