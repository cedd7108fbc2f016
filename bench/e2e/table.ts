import { type Figure, type Measurement, pairedRatio } from '../stats.js';
import { formatCount, formatFigure, formatMs, formatRatio, type ResultRow } from '../table.js';

/** The e2e workload's baseline: every ratio is ours ÷ floor. */
export const FLOOR = 'floor';

const HEADER = ['order flow, end to end', 'ours', 'floor', 'ours ÷ floor'];

/** Two decimals below 10, one below 100: CPU in ms per order, statements per order. */
function formatSmall(n: number): string {
  if (Math.abs(n) < 10) return n.toFixed(2);
  if (Math.abs(n) < 100) return n.toFixed(1);
  return formatCount(n);
}

/**
 * The e2e rows as one table, a line per figure: the median of the rounds with their spread,
 * and the median of the per-round ratios ours ÷ floor. Empty without both rows.
 */
export function formatE2eTable(rows: readonly ResultRow[]): string {
  const floor = rows.find((r) => r.variant === FLOOR);
  const ours = rows.find((r) => r.variant !== FLOOR);
  if (!floor || !ours) return '';
  const line = (
    label: string,
    pick: (s: { summary: ResultRow['summary'] }) => Figure | undefined,
    value: (m: Measurement) => number | undefined,
    format: (n: number) => string,
  ) => [
    label,
    formatFigure(pick(ours), format),
    formatFigure(pick(floor), format),
    formatRatio(pairedRatio(ours.reps.map(value), floor.reps.map(value))),
  ];
  const lines = [
    HEADER,
    HEADER.map(() => '---'),
    line(
      'orders/s',
      (r) => r.summary.throughput,
      (m) => m.throughput,
      formatCount,
    ),
    line(
      'p50 ms',
      (r) => r.summary.p50,
      (m) => m.p50,
      formatMs,
    ),
    line(
      'p99 ms',
      (r) => r.summary.p99,
      (m) => m.p99,
      formatMs,
    ),
    ...Object.keys(ours.summary.extra).map((key) =>
      line(
        key,
        (r) => r.summary.extra[key],
        (m) => m.extra?.[key],
        formatSmall,
      ),
    ),
  ];
  return [
    `${ours.workload}; ${ours.reps.length} round(s); per order unless stated`,
    '',
    ...lines.map((cells) => `| ${cells.join(' | ')} |`),
  ].join('\n');
}
