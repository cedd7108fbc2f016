import { summarise } from '../stats.js';
import type { ResultRow } from '../table.js';
import { type BenchContext, describe, rotate } from '../support/compare.js';
import { type E2eVariant, E2E_FIGURES, runRound } from '../e2e/round.js';

export const E2E_VARIANTS: Record<E2eVariant, { name: string; note: string }> = {
  ours: {
    name: 'ours',
    note: 'apps/* from dist/, one process each, LOG_FORMAT=json at the default level',
  },
  floor: {
    name: 'floor',
    note: 'bench/floor: node:http + pg + amqplib, the same tables, transactions and messages',
  },
};

/**
 * Workload 4, the order flow end to end in the production layout: `POST /orders` → RPC
 * inventory.reserve → PostgreSQL → outbox → order.confirmed → notification → SMTP, each
 * service in its own process, the load generator and the SMTP sink in theirs, through ours
 * and through the framework-free floor, in alternating rounds (each round from a fresh
 * database and vhost, the order of the two rotating), so every ratio pairs a round of ours
 * with the round of the floor next to it.
 */
export async function e2eWorkload(ctx: BenchContext): Promise<ResultRow[]> {
  const { scale, reps, profileDir } = ctx.config;
  const variants: E2eVariant[] = ['ours', 'floor'];
  const measured = new Map(variants.map((v) => [v, [] as ResultRow['reps']]));
  for (let round = 0; round < reps; round++) {
    for (const variant of rotate(variants, round)) {
      const m = await runRound(ctx, variant, {
        connections: scale.e2eConnections,
        warmupSeconds: scale.e2eWarmupSeconds,
        seconds: scale.e2eSeconds,
        statsFlushMs: scale.e2eStatsFlushMs,
        profileDir,
      });
      measured.get(variant)!.push(m);
      const cpu = m.extra?.[E2E_FIGURES.machine]?.toFixed(2);
      ctx.log(`e2e | ${variant} | round ${round + 1}: ${describe(m)}, machine CPU ${cpu} ms/order`);
    }
  }
  return variants.map((variant) => ({
    group: 'e2e',
    workload: `e2e POST /orders, ${scale.e2eConnections} connections, one process per service`,
    variant: E2E_VARIANTS[variant].name,
    note: E2E_VARIANTS[variant].note,
    reps: measured.get(variant)!,
    summary: summarise(measured.get(variant)!),
  }));
}
