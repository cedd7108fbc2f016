import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';

/** Where `npm run bench` and `npm run measure:scaling` keep their JSON reports. */
export const RESULTS_DIR = 'bench/results';

export interface MachineInfo {
  node: string;
  cpus: number;
  cpuModel: string;
  loadAverageAtStart: number[];
}

/** The runtime and machine a measurement ran on, taken when it starts. */
export function machineInfo(): MachineInfo {
  return {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** `<dir>/<prefix><start time>.json`, colons and dots made safe for every file system. */
export const resultsFile = (dir: string, startedAt: Date, prefix = '') =>
  join(dir, `${prefix}${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);

/** Writes a report as JSON (docs cite these files; test/docs checks their figures). */
export async function writeResults(file: string, report: object): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
}
