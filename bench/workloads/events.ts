import { cpuMicrosPerOp, type Measurement } from '../stats.js';
import type { ResultRow } from '../table.js';
import { type BenchContext, compare } from '../support/compare.js';
import { type BenchBody, makeBody } from '../support/payload.js';
import { layerEvents } from '../variants/layer.js';
import { nestEvents } from '../variants/nest-rmq.js';
import { rawEvents } from '../variants/raw.js';
import type { EventTarget } from '../variants/types.js';
import { CPU_PER_OP } from './rpc.js';

/** Workload 3: n persistent events published with confirms and consumed with manual acks. */
export async function eventsWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { scale, size } = ctx.config;
  const body = makeBody(size);
  return compare(
    ctx,
    [
      rawEvents(ctx.config),
      layerEvents(ctx.config),
      layerEvents(ctx.config, { raw: true }),
      nestEvents(ctx.config),
    ],
    (t) => publishAndConsume(t, scale.warmupEvents, body),
    [
      {
        group: 'events',
        workload: 'events, confirmed + persistent',
        measure: (t) => publishAndConsume(t, scale.events, body),
      },
    ],
  );
}

/** Workload 5: the same through 1, 2 and 4 consumer instances of one service. */
export async function scalingWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { scale, size } = ctx.config;
  const body = makeBody(size);
  const rows: ResultRow[] = [];
  for (const consumers of scale.consumers) {
    rows.push(
      ...(await compare(
        ctx,
        [rawEvents(ctx.config, consumers), layerEvents(ctx.config, { consumers })],
        (t) => publishAndConsume(t, scale.warmupEvents, body),
        [
          {
            group: 'scaling',
            workload: `events, ${consumers} consumer${consumers === 1 ? '' : 's'}`,
            measure: (t) => publishAndConsume(t, scale.scalingEvents, body),
          },
        ],
      )),
    );
  }
  return rows;
}

/**
 * Messages per second from the first publish to the last ack; also how fast the publisher
 * alone got its confirms.
 */
export async function publishAndConsume(
  target: EventTarget,
  n: number,
  body: BenchBody,
): Promise<Measurement> {
  const consumed = target.arrivals.next(n, 120_000 + n);
  consumed.catch(() => undefined); // awaited below; a failed publish must not leave it unhandled
  const start = performance.now();
  let publishedMs = 0;
  const { cpuMicrosPerOp: cpu } = await cpuMicrosPerOp(n, async () => {
    await target.publish(n, body);
    publishedMs = performance.now() - start;
    await consumed;
  });
  const elapsedMs = performance.now() - start;
  return {
    throughput: (n * 1000) / elapsedMs,
    extra: { 'publish /s': (n * 1000) / publishedMs, [CPU_PER_OP]: cpu },
  };
}
