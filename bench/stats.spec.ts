import { describe, expect, it } from '@jest/globals';
import {
  cpuMicrosPerOp,
  figure,
  latencyPercentiles,
  median,
  pairedRatio,
  percentile,
  summarise,
} from './stats.js';

describe('percentile', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('takes the nearest rank: p50 of 1..100 is 50, p99 is 99', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
  });

  it('gives the smallest value for p0 and the only value of a single sample', () => {
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
  });

  it('refuses no values and percentiles outside 0..100', () => {
    expect(() => percentile([], 50)).toThrow('no values');
    expect(() => percentile([1], 101)).toThrow('0..100');
    expect(() => percentile([1], Number.NaN)).toThrow('0..100');
  });
});

describe('latencyPercentiles', () => {
  it('sorts numerically, not as text', () => {
    const { p50, p99 } = latencyPercentiles([10, 9, 100, 2, 1]);
    expect(p50).toBe(9);
    expect(p99).toBe(100);
  });
});

describe('median and spread', () => {
  it('takes the middle value of an odd count and the mean of the middle two of an even one', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('gives median, min and max of the repetitions', () => {
    expect(figure([900, 1000, 1200])).toEqual({ median: 1000, min: 900, max: 1200 });
  });
});

describe('summarise', () => {
  it('keeps a latency figure only when every repetition measured it', () => {
    const s = summarise([
      { throughput: 10, p50: 1, p99: 5, extra: { errors: 0 } },
      { throughput: 30, p50: 3, extra: { errors: 2 } },
      { throughput: 20, p50: 2, p99: 6, extra: { errors: 1 } },
    ]);
    expect(s.throughput).toEqual({ median: 20, min: 10, max: 30 });
    expect(s.p50).toEqual({ median: 2, min: 1, max: 3 });
    expect(s.p99).toBeUndefined();
    expect(s.extra.errors).toEqual({ median: 1, min: 0, max: 2 });
  });

  it('refuses to summarise nothing', () => {
    expect(() => summarise([])).toThrow('no repetitions');
  });
});

describe('pairedRatio', () => {
  it('takes the median of the per-repetition quotients, not the quotient of the medians', () => {
    // Raw's second repetition hit a busy moment: two of three pairs say 0.9, and so does
    // the paired ratio; the medians (20 over 11) would claim 1.8.
    const raw = [10, 11, 30];
    const ours = [9, 20, 27];
    expect(pairedRatio(ours, raw)).toBeCloseTo(0.9);
    expect(median(ours) / median(raw)).toBeCloseTo(1.82);
  });

  it('has no answer without a full, non-zero baseline', () => {
    expect(pairedRatio([1, 2], [1])).toBeUndefined();
    expect(pairedRatio([], [])).toBeUndefined();
    expect(pairedRatio([1], [0])).toBeUndefined();
    expect(pairedRatio([1], [undefined])).toBeUndefined();
  });
});

describe('cpuMicrosPerOp', () => {
  it('divides the CPU time the work used by the operations it did', async () => {
    const { result, cpuMicrosPerOp: perOp } = await cpuMicrosPerOp(1_000, async () => {
      let x = 0;
      for (let i = 0; i < 100_000; i++) x += i;
      return x;
    });
    expect(result).toBe(4_999_950_000);
    expect(perOp).toBeGreaterThanOrEqual(0);
  });
});
