import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseBenchArgs, WORKLOADS, type BenchConfig } from '../../bench/args.js';
import { type BenchReport, runBench } from '../../bench/bench.js';

// Keeps `npm run bench` from rotting: the quick mode through every workload and variant.
// It measures nothing worth asserting, so nothing here looks at a timing.
describe('npm run bench -- --quick', () => {
  let outDir: string;
  let report: BenchReport;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'bench-'));
    const config = parseBenchArgs(['--quick', '--out', outDir]) as BenchConfig;
    report = await runBench(config, () => undefined);
  }, 240_000);

  afterAll(() => rm(outDir, { recursive: true, force: true }));

  it('writes one JSON report covering all five workloads', async () => {
    const files = await readdir(outDir);
    expect(files).toHaveLength(1);
    const written = JSON.parse(await readFile(join(outDir, files[0]!), 'utf8')) as BenchReport;
    expect(new Set(written.rows.map((r) => r.group))).toEqual(new Set(WORKLOADS));
    expect(written.table).toBe(report.table);
  });

  it('measures a positive throughput for every workload and variant', () => {
    for (const row of report.rows) {
      expect(row.summary.throughput.median).toBeGreaterThan(0);
      expect(row.reps).toHaveLength(1);
    }
  });

  it('compares our layer and Nest RMQ with raw amqplib', () => {
    const rpc = report.rows.filter((r) => r.group === 'rpc-concurrent').map((r) => r.variant);
    expect(new Set(rpc)).toEqual(new Set(['raw amqplib', 'ours', 'Nest RMQ']));
    expect(report.table).toContain('| rpc, 1 in flight | ours |');
  });

  // Each round checks its own outcome (every order confirmed, one e-mail each, stock exact,
  // outbox published) and throws otherwise, so reaching the report means both did the work.
  it('runs the order flow end to end through ours and the floor, each in its own processes', () => {
    const e2e = report.rows.filter((r) => r.group === 'e2e');
    expect(e2e.map((r) => r.variant)).toEqual(['ours', 'floor']);
    for (const row of e2e) expect(row.reps[0]!.extra!['failed requests (total)']).toBe(0);
    expect(report.table).toContain('| orders/s |');
  });
});
