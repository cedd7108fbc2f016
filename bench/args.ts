import { parseArgs } from 'node:util';
import { RESULTS_DIR } from './support/results.js';

/** The five workloads of the report; `--only` takes these names. */
export const WORKLOADS = ['rpc-sequential', 'rpc-concurrent', 'events', 'e2e', 'scaling'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** How much work each workload does: the full run is sized to stay under 5 minutes on 2 cores. */
export interface Scale {
  rpcSequentialCalls: number;
  rpcConcurrentCalls: number;
  inFlight: readonly number[];
  events: number;
  consumers: readonly number[];
  scalingEvents: number;
  e2eSeconds: number;
  e2eConnections: number;
  /** Operations run through each variant before anything is measured. */
  warmupCalls: number;
  warmupEvents: number;
  e2eWarmupSeconds: number;
  /**
   * Wait before reading PostgreSQL's commit counter: an idle backend flushes its statistics
   * within 10 s (PGSTAT_IDLE_INTERVAL), so a shorter wait may miss the last second of commits.
   */
  e2eStatsFlushMs: number;
}

export interface BenchConfig {
  quick: boolean;
  reps: number;
  /** Bytes of the JSON body of every request and event. */
  size: number;
  /** Unacked deliveries per consumer, the same for every variant. */
  prefetch: number;
  rpcPrefetch: number;
  workloads: readonly Workload[];
  outDir: string;
  scale: Scale;
  /** Each e2e service writes a CPU profile (`node --cpu-prof`) under this directory. */
  profileDir?: string;
}

export const FULL_SCALE: Scale = {
  rpcSequentialCalls: 4_000,
  rpcConcurrentCalls: 10_000,
  inFlight: [64, 256],
  events: 10_000,
  consumers: [1, 2, 4],
  scalingEvents: 10_000,
  e2eSeconds: 10,
  e2eConnections: 32,
  warmupCalls: 2_000,
  warmupEvents: 3_000,
  e2eWarmupSeconds: 3,
  e2eStatsFlushMs: 11_000,
};

/** Seconds, for CI: enough to run every code path once, too little to mean anything. */
export const QUICK_SCALE: Scale = {
  rpcSequentialCalls: 30,
  rpcConcurrentCalls: 300,
  inFlight: [64, 256],
  events: 300,
  consumers: [1, 2, 4],
  scalingEvents: 200,
  e2eSeconds: 1,
  e2eConnections: 4,
  warmupCalls: 20,
  warmupEvents: 20,
  e2eWarmupSeconds: 0,
  e2eStatsFlushMs: 0,
};

export const USAGE = `Usage: npm run bench -- [options]

  --quick          tiny workloads, 1 repetition: checks the bench runs (CI), measures nothing
  --reps N         repetitions of each measurement (default 5; 1 with --quick)
  --size BYTES     JSON body size of every message (default 300)
  --only LIST      comma-separated subset of: ${WORKLOADS.join(', ')}
  --out DIR        where the results JSON goes (default bench/results)
  --profile DIR    e2e: each service process writes a CPU profile (node --cpu-prof) under DIR
  --help           this text`;

export class UsageError extends Error {}

export function parseBenchArgs(argv: readonly string[]): BenchConfig | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        quick: { type: 'boolean', default: false },
        reps: { type: 'string' },
        size: { type: 'string', default: '300' },
        only: { type: 'string' },
        out: { type: 'string', default: 'bench/results' },
        profile: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const quick = values.quick ?? false;
  return {
    quick,
    reps: values.reps === undefined ? (quick ? 1 : 5) : integer('--reps', values.reps, 1, 100),
    size: integer('--size', values.size ?? '300', 32, 1_000_000),
    // Our layer's defaults (Defaults.prefetch / rpcPrefetch), given to every variant alike.
    prefetch: 32,
    rpcPrefetch: 64,
    workloads: values.only === undefined ? WORKLOADS : workloadList(values.only),
    outDir: values.out ?? RESULTS_DIR,
    scale: quick ? QUICK_SCALE : FULL_SCALE,
    ...(values.profile !== undefined && { profileDir: values.profile }),
  };
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

function workloadList(text: string): Workload[] {
  const names = text.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(WORKLOADS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(`--only takes ${WORKLOADS.join(', ')}; unknown: ${unknown.join(', ')}`);
  }
  return WORKLOADS.filter((w) => names.includes(w));
}
