/**
 * Preloaded into every service process of the end-to-end workload (`node --import`): counts
 * the SQL statements the process sends through `pg` (BEGIN and COMMIT included; both
 * variants use `pg`, ours under Kysely) and, among them, the COMMITs. On SIGUSR2 it writes
 * `{"seq":…,"queries":…,"commits":…}` to BENCH_QUERY_COUNT_FILE. Counting is an increment and
 * a string test per statement, well below what the bench can resolve.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const file = process.env.BENCH_QUERY_COUNT_FILE;
if (file) {
  // The copy of `pg` the service itself loads (ESM imports of a CommonJS package share it).
  const pg = createRequire(`${process.cwd()}/`)('pg') as typeof import('pg');
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = proto.query;
  let queries = 0;
  let commits = 0;
  let seq = 0;
  proto.query = function counted(this: unknown, ...args: unknown[]) {
    queries++;
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: unknown } | null)?.text;
    if (typeof text === 'string' && /^\s*commit\b/i.test(text)) commits++;
    return query.apply(this, args);
  };
  process.on('SIGUSR2', () => {
    writeFileSync(file, JSON.stringify({ seq: ++seq, queries, commits }));
  });
}
