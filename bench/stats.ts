/** The numbers behind the table: percentiles of one run, and median and spread across runs. */

/** What one repetition of one workload through one variant measured. */
export interface Measurement {
  /** Operations (calls, messages, orders) per second. */
  throughput: number;
  /** Latency percentiles in milliseconds, where the workload has per-operation latency. */
  p50?: number;
  p99?: number;
  /** Workload-specific figures (e.g. time until the last e-mail), reported as they are. */
  extra?: Record<string, number>;
}

/** A figure across repetitions: the median is what the table shows, min–max its spread. */
export interface Figure {
  median: number;
  min: number;
  max: number;
}

export interface Summary {
  throughput: Figure;
  p50?: Figure;
  p99?: Figure;
  extra: Record<string, Figure>;
}

/**
 * Nearest-rank percentile (`p` in 0..100) of values sorted ascending: the smallest value
 * with at least p % of the values at or below it. Exact, no interpolation.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile must be within 0..100, got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

/** The middle value, or the mean of the two middle ones. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function figure(values: readonly number[]): Figure {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * This process's CPU time (user + system) per operation while `work` ran, in µs. The client
 * and the server of every variant share this process, so it prices a variant's whole code
 * path, and it is steadier than throughput when other processes compete for the cores.
 */
export async function cpuMicrosPerOp<T>(
  operations: number,
  work: () => Promise<T>,
): Promise<{ result: T; cpuMicrosPerOp: number }> {
  const before = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(before);
  return { result, cpuMicrosPerOp: (used.user + used.system) / operations };
}

/** Latencies of one run (ms) → its p50 and p99. */
export function latencyPercentiles(latenciesMs: readonly number[] | Float64Array): {
  p50: number;
  p99: number;
} {
  const sorted = Float64Array.from(latenciesMs).sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

/** Repetitions → one summary; a latency or extra figure is kept if every repetition has it. */
export function summarise(reps: readonly Measurement[]): Summary {
  if (reps.length === 0) throw new Error('no repetitions to summarise');
  const all = (pick: (m: Measurement) => number | undefined): number[] | undefined => {
    const values = reps.map(pick);
    return values.every((v): v is number => v !== undefined) ? values : undefined;
  };
  const p50 = all((m) => m.p50);
  const p99 = all((m) => m.p99);
  const extra: Record<string, Figure> = {};
  for (const key of Object.keys(reps[0]!.extra ?? {})) {
    const values = all((m) => m.extra?.[key]);
    if (values) extra[key] = figure(values);
  }
  return {
    throughput: figure(reps.map((m) => m.throughput)),
    ...(p50 && { p50: figure(p50) }),
    ...(p99 && { p99: figure(p99) }),
    extra,
  };
}

/**
 * A variant's figure over raw's, paired by repetition: the median of `value[i] / raw[i]`.
 * Repetition i of every variant ran in the same round, one right after the other, so each
 * quotient cancels what the machine was doing then (other load, CPU speed), which a ratio
 * of two medians taken from different moments does not. Undefined unless both have the
 * same repetitions.
 */
export function pairedRatio(
  values: readonly (number | undefined)[],
  raw: readonly (number | undefined)[],
): number | undefined {
  if (values.length === 0 || values.length !== raw.length) return undefined;
  const quotients: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const r = raw[i];
    if (v === undefined || r === undefined || r === 0) return undefined;
    quotients.push(v / r);
  }
  return median(quotients);
}
