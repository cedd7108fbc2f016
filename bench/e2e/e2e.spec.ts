import { describe, expect, it } from '@jest/globals';
import { summarise } from '../stats.js';
import type { ResultRow } from '../table.js';
import { moduleOf } from './profile-summary.js';
import { formatE2eTable } from './table.js';

function row(variant: string, throughputs: number[], cpu: number[]): ResultRow {
  const reps = throughputs.map((throughput, i) => ({
    throughput,
    p50: 10,
    p99: 20,
    extra: { 'order CPU, ms': cpu[i]! },
  }));
  return { group: 'e2e', workload: 'e2e', variant, reps, summary: summarise(reps) };
}

describe('formatE2eTable', () => {
  it('gives every figure a line with ours, the floor and the median of per-round ratios', () => {
    const table = formatE2eTable([
      row('ours', [100, 300, 200], [2, 3, 4]),
      row('floor', [200, 300, 400], [1, 2, 2]),
    ]);
    // Per-round ratios 0.5, 1, 0.5 → 0.5; CPU 2, 1.5, 2 → 2.
    expect(table).toContain('| orders/s | 200 (100–300) | 300 (200–400) | 0.50× |');
    expect(table).toContain('| order CPU, ms | 3.00 (2.00–4.00) | 2.00 (1.00–2.00) | 2.00× |');
  });

  it('is empty without the floor to compare with', () => {
    expect(formatE2eTable([row('ours', [1], [1])])).toBe('');
  });
});

describe('moduleOf', () => {
  const frame = (url: string, functionName = 'f') => ({ url, functionName, lineNumber: 0 });

  it('names packages, our libraries and apps, Node internals and V8', () => {
    expect(moduleOf(frame('file:///w/node_modules/pg-protocol/dist/parser.js'))).toBe(
      'pg-protocol',
    );
    expect(moduleOf(frame('file:///w/node_modules/@nestjs/core/router/x.js'))).toBe('@nestjs/core');
    expect(
      moduleOf(frame('file:///w/node_modules/.cache/faults/dist-1-ab/libs/messaging/src/x.js')),
    ).toBe('@app/messaging');
    expect(moduleOf(frame('file:///w/dist/apps/order/src/orders/x.js'))).toBe('apps/order');
    expect(moduleOf(frame('node:internal/stream_base_commons'))).toBe('node:stream_base_commons');
    expect(moduleOf(frame('', '(garbage collector)'))).toBe('GC');
    expect(moduleOf(frame('', 'writev'))).toBe('native: writev');
  });
});
