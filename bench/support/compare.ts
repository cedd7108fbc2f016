import { type RabbitAdmin, withVhost } from '@app/messaging/testing';
import type { BenchConfig, Workload } from '../args.js';
import { type Measurement, summarise } from '../stats.js';
import { formatCount, formatMs, type ResultRow } from '../table.js';
import type { Closeable, Variant } from '../variants/types.js';

/** What every workload gets from the harness. */
export interface BenchContext {
  config: BenchConfig;
  admin: RabbitAdmin;
  /** The broker URL without a vhost; each variant gets a fresh vhost of its own. */
  rabbitUrl: string;
  log(line: string): void;
}

/** One measured workload over an already started, warmed-up instance. */
export interface Scenario<I> {
  group: Workload;
  workload: string;
  measure(instance: I): Promise<Measurement>;
}

/**
 * Starts every variant in its own fresh vhost and warms it up, then runs each scenario
 * `reps` times through all of them, interleaved and in a rotating order, so that noise
 * from the machine (other processes, GC, the broker's own work) spreads over all variants
 * alike. Tears everything down, vhosts included, even on failure.
 */
export async function compare<I extends Closeable>(
  ctx: BenchContext,
  variants: readonly Variant<I>[],
  warmUp: (instance: I) => Promise<unknown>,
  scenarios: readonly Scenario<I>[],
): Promise<ResultRow[]> {
  const started: { variant: Variant<I>; vhost: string; instance?: I }[] = [];
  try {
    for (const variant of variants) {
      const entry: (typeof started)[number] = {
        variant,
        vhost: await ctx.admin.createVhost('bench'),
      };
      started.push(entry);
      entry.instance = await variant.start(withVhost(ctx.rabbitUrl, entry.vhost));
      await warmUp(entry.instance);
    }
    const rows: ResultRow[] = [];
    for (const scenario of scenarios) {
      const reps = new Map<Variant<I>, Measurement[]>(variants.map((v) => [v, []]));
      for (let rep = 0; rep < ctx.config.reps; rep++) {
        for (const { variant, instance } of rotate(started, rep)) {
          const m = await scenario.measure(instance!);
          reps.get(variant)!.push(m);
          ctx.log(`${scenario.workload} | ${variant.name} | rep ${rep + 1}: ${describe(m)}`);
        }
      }
      for (const variant of variants) {
        const measured = reps.get(variant)!;
        rows.push({
          group: scenario.group,
          workload: scenario.workload,
          variant: variant.name,
          ...(variant.note && { note: variant.note }),
          reps: measured,
          summary: summarise(measured),
        });
      }
    }
    return rows;
  } finally {
    for (const { instance, vhost } of started.reverse()) {
      await instance?.close().catch((e: Error) => ctx.log(`close failed: ${e.message}`));
      await ctx.admin.deleteVhost(vhost).catch((e: Error) => ctx.log(`vhost: ${e.message}`));
    }
  }
}

export function rotate<T>(items: readonly T[], by: number): T[] {
  const k = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export function describe(m: Measurement): string {
  const latency = m.p50 === undefined ? '' : `, p50 ${formatMs(m.p50)} ms`;
  const tail = m.p99 === undefined ? '' : `, p99 ${formatMs(m.p99)} ms`;
  return `${formatCount(m.throughput)}/s${latency}${tail}`;
}
