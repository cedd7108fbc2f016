import { describe, expect, it } from '@jest/globals';
import { summarise } from './stats.js';
import { BASELINE, formatFigure, formatMs, formatTable, type ResultRow } from './table.js';

function row(variant: string, throughputs: number[], p50s?: number[]): ResultRow {
  const reps = throughputs.map((throughput, i) => ({
    throughput,
    ...(p50s && { p50: p50s[i]!, p99: p50s[i]! * 2 }),
  }));
  return {
    group: 'rpc-concurrent',
    workload: 'rpc, 64 in flight',
    variant,
    reps,
    summary: summarise(reps),
  };
}

describe('formatTable', () => {
  it('shows each median with its spread and the ratio to raw amqplib of the same workload', () => {
    const table = formatTable([
      row(BASELINE, [10_000, 9_000, 11_000], [1, 1.2, 0.8]),
      row('ours', [9_500, 9_400, 9_600], [1.1, 1.1, 1.1]),
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toBe(
      '| workload | variant | throughput /s | ×raw | p50 ms | ×raw | p99 ms | ×raw | notes |',
    );
    expect(lines[1]).toBe('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    expect(lines[2]).toBe(
      '| rpc, 64 in flight | raw amqplib | 10,000 (9,000–11,000) | 1.00× | 1.00 (0.80–1.20) | 1.00× | 2.00 (1.60–2.40) | 1.00× |  |',
    );
    expect(lines[3]).toBe(
      '| rpc, 64 in flight | ours | 9,500 (9,400–9,600) | 0.95× | 1.10 | 1.10× | 2.20 | 1.10× |  |',
    );
  });

  it('shows dashes where there is no latency or no raw baseline, and lists extras and notes', () => {
    const reps = [{ throughput: 1_500, extra: { 'last e-mail after ms': 10_250 } }];
    const table = formatTable([
      {
        group: 'e2e',
        workload: 'e2e',
        variant: 'ours',
        note: 'in-process',
        reps,
        summary: summarise(reps),
      },
    ]);
    expect(table.split('\n')[2]).toBe(
      '| e2e | ours | 1,500 | — | — | — | — | — | last e-mail after ms: 10,250; in-process |',
    );
  });
});

describe('number formats', () => {
  it('keeps about three significant digits of a latency', () => {
    expect(formatMs(0.4567)).toBe('0.46');
    expect(formatMs(12.34)).toBe('12.3');
    expect(formatMs(1234.5)).toBe('1,235');
  });

  it('leaves out the spread when every repetition agrees', () => {
    expect(formatFigure({ median: 3, min: 3, max: 3 }, String)).toBe('3');
    expect(formatFigure(undefined, String)).toBe('—');
  });
});
