import { RabbitAdmin } from '@app/messaging/testing';
import { testEnv } from '../test/support/env.js';
import requireServices from '../test/support/global-setup.js';
import type { BenchConfig, Workload } from './args.js';
import type { BenchContext } from './support/compare.js';
import { formatE2eTable } from './e2e/table.js';
import { machineInfo, type MachineInfo, resultsFile, writeResults } from './support/results.js';
import { formatTable, type ResultRow } from './table.js';
import { e2eWorkload } from './workloads/e2e.js';
import { eventsWorkload, scalingWorkload } from './workloads/events.js';
import { rpcWorkloads } from './workloads/rpc.js';

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  config: BenchConfig;
  machine: MachineInfo;
  rows: ResultRow[];
  table: string;
  /** Where the JSON was written. */
  file: string;
}

/** Runs the chosen workloads in order (RPC, events, end to end, scaling), then reports. */
const STEPS: { runs: readonly Workload[]; run: (ctx: BenchContext) => Promise<ResultRow[]> }[] = [
  { runs: ['rpc-sequential', 'rpc-concurrent'], run: rpcWorkloads },
  { runs: ['events'], run: eventsWorkload },
  { runs: ['e2e'], run: e2eWorkload },
  { runs: ['scaling'], run: scalingWorkload },
];

/**
 * The whole benchmark, against the broker and database of test/support/env.ts (the local
 * ones unless RABBITMQ_URL, RABBITMQ_MANAGEMENT_URL, DATABASE_URL say otherwise). Prints
 * progress through `log`, returns the report and writes it as JSON to `config.outDir`.
 */
export async function runBench(
  config: BenchConfig,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<BenchReport> {
  const startedAt = new Date();
  const machine = machineInfo();
  await requireServices(); // fails at once, saying how to start what is missing
  const admin = new RabbitAdmin(testEnv.managementUrl);
  const t0 = performance.now();
  const ctx: BenchContext = {
    config,
    admin,
    rabbitUrl: testEnv.rabbitUrl,
    log: (line) => log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${line}`),
  };
  ctx.log(
    `bench: ${config.quick ? 'quick' : 'full'}, ${config.reps} rep(s), ${config.size}-byte bodies, ` +
      `${config.workloads.join(', ')}; Node ${machine.node}; load average ${machine.loadAverageAtStart.join(' ')}`,
  );
  const rows: ResultRow[] = [];
  for (const step of STEPS) {
    if (step.runs.some((w) => config.workloads.includes(w))) rows.push(...(await step.run(ctx)));
  }
  const e2e = rows.filter((r) => r.group === 'e2e');
  const others = rows.filter((r) => r.group !== 'e2e');
  const table = [others.length > 0 ? formatTable(others) : '', formatE2eTable(e2e)]
    .filter(Boolean)
    .join('\n\n');
  const file = resultsFile(config.outDir, startedAt);
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    config,
    machine,
    rows,
    table,
    file,
  };
  await writeResults(file, report);
  return report;
}
