import { parseBenchArgs, USAGE, UsageError } from './args.js';
import { runBench } from './bench.js';

// `npm run bench -- [options]`: builds, then runs this from dist/bench/run.js.
try {
  const config = parseBenchArgs(process.argv.slice(2));
  if (config === 'help') {
    console.log(USAGE);
  } else {
    const started = performance.now();
    const report = await runBench(config);
    console.log(`\n${report.table}\n`);
    console.log(
      `${report.rows.length} rows in ${Math.round((performance.now() - started) / 1000)} s; ` +
        `median of ${config.reps} rep(s), (min–max) in brackets; written to ${report.file}`,
    );
  }
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    console.error(error);
    process.exitCode = 1;
  }
}
