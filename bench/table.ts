import type { Workload } from './args.js';
import { type Figure, type Measurement, pairedRatio, type Summary } from './stats.js';

/** One line of the report: a workload run through one variant, all repetitions kept. */
export interface ResultRow {
  group: Workload;
  /** What the table shows, e.g. `rpc, 64 in flight`. */
  workload: string;
  variant: string;
  summary: Summary;
  reps: Measurement[];
  /** What differs from the other variants of this workload (e.g. no validation). */
  note?: string;
}

/** The variant every ratio is taken against, within the same workload. */
export const BASELINE = 'raw amqplib';

const HEADER = [
  'workload',
  'variant',
  'throughput /s',
  '×raw',
  'p50 ms',
  '×raw',
  'p99 ms',
  '×raw',
  'notes',
];

/**
 * A markdown table: each figure is the median of the repetitions with its spread (min–max)
 * in brackets; each ratio is to raw amqplib in the same workload, the median of the
 * per-repetition ratios (`pairedRatio`).
 */
export function formatTable(rows: readonly ResultRow[]): string {
  const lines = [HEADER, HEADER.map(() => '---')];
  for (const row of rows) {
    const raw = rows.find((r) => r.workload === row.workload && r.variant === BASELINE);
    const s = row.summary;
    const toRaw = (pick: (m: Measurement) => number | undefined) =>
      formatRatio(raw && pairedRatio(row.reps.map(pick), raw.reps.map(pick)));
    lines.push([
      row.workload,
      row.variant,
      formatFigure(s.throughput, formatCount),
      toRaw((m) => m.throughput),
      formatFigure(s.p50, formatMs),
      toRaw((m) => m.p50),
      formatFigure(s.p99, formatMs),
      toRaw((m) => m.p99),
      formatNotes(row),
    ]);
  }
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function formatFigure(f: Figure | undefined, format: (n: number) => string): string {
  if (!f) return '—';
  if (f.min === f.max) return format(f.median);
  return `${format(f.median)} (${format(f.min)}–${format(f.max)})`;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Two significant decimals where they matter: 0.42, 3.17, 12.5, 240. */
export function formatMs(ms: number): string {
  if (ms < 10) return ms.toFixed(2);
  if (ms < 100) return ms.toFixed(1);
  return formatCount(ms);
}

export function formatRatio(r: number | undefined): string {
  return r === undefined ? '—' : `${r.toFixed(2)}×`;
}

function formatNotes(row: ResultRow): string {
  const extras = Object.entries(row.summary.extra).map(
    ([label, f]) => `${label}: ${formatFigure(f, formatCount)}`,
  );
  return [...extras, ...(row.note ? [row.note] : [])].join('; ');
}
