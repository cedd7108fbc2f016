import { describe, expect, it } from '@jest/globals';
import { FULL_SCALE, parseBenchArgs, QUICK_SCALE, UsageError, WORKLOADS } from './args.js';

describe('parseBenchArgs', () => {
  it('defaults to the full run: 5 repetitions, 300-byte bodies, every workload', () => {
    const config = parseBenchArgs([]);
    expect(config).toMatchObject({
      quick: false,
      reps: 5,
      size: 300,
      workloads: WORKLOADS,
      outDir: 'bench/results',
      scale: FULL_SCALE,
    });
  });

  it('makes --quick small and single-repetition unless --reps says otherwise', () => {
    expect(parseBenchArgs(['--quick'])).toMatchObject({ quick: true, reps: 1, scale: QUICK_SCALE });
    expect(parseBenchArgs(['--quick', '--reps', '2'])).toMatchObject({ reps: 2 });
  });

  it('reads --size, --out and --only, keeping the workloads in report order', () => {
    const config = parseBenchArgs([
      '--size',
      '1024',
      '--out',
      '/tmp/r',
      '--only',
      'events,rpc-sequential',
    ]);
    expect(config).toMatchObject({
      size: 1024,
      outDir: '/tmp/r',
      workloads: ['rpc-sequential', 'events'],
    });
  });

  it('answers --help', () => {
    expect(parseBenchArgs(['--help'])).toBe('help');
  });

  it.each([
    [['--reps', '0']],
    [['--reps', '2.5']],
    [['--size', '8']],
    [['--size', 'big']],
    [['--only', 'rpc,nope']],
    [['--fast']],
    [['positional']],
  ])('refuses %j with a usage error', (argv) => {
    expect(() => parseBenchArgs(argv)).toThrow(UsageError);
  });
});
