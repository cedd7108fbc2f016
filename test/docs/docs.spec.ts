// The docs against the repository: every relative link (and its #anchor) resolves, every
// `npm run <script>` exists, and every figure in the tables of docs/performance.md and
// docs/scaling.md is in the committed results file the text before the table names.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import {
  headingSlugs,
  linkTargets,
  npmScripts,
  numbersIn,
  resultNumbers,
  tables,
  unmatchedFigures,
} from './markdown.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const DOCS = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const MEASURED = ['docs/performance.md', 'docs/scaling.md'];

describe('links in the docs', () => {
  it.each(DOCS)('%s: every relative link and anchor resolves', (doc) => {
    const broken = linkTargets(read(doc)).flatMap((target) => {
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? doc : relative(ROOT, join(ROOT, dirname(doc), path));
      if (!existsSync(join(ROOT, file))) return [`${target}: no ${file}`];
      if (anchor && file.endsWith('.md') && !headingSlugs(read(file)).has(anchor))
        return [`${target}: no heading #${anchor} in ${file}`];
      return [];
    });
    expect(broken).toEqual([]);
  });
});

describe('npm scripts named in the docs', () => {
  const scripts = Object.keys(
    (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts,
  );

  it.each(DOCS)('%s: every `npm run <script>` is in package.json', (doc) => {
    expect(npmScripts(read(doc)).filter((s) => !scripts.includes(s))).toEqual([]);
  });
});

describe('measured figures in the docs', () => {
  it.each(MEASURED)(
    '%s: every table with figures names its results files, or says it has none',
    (doc) => {
      const unsourced = tables(read(doc)).filter(
        (t) => t.figures.length > 0 && t.results.length === 0 && !t.noResultsFile,
      );
      expect(unsourced.map((t) => `line ${t.line}: ${t.rows[0]?.join(' | ')}`)).toEqual([]);
    },
  );

  it.each(MEASURED)('%s: every figure of a table is in the results files it names', (doc) => {
    const sourced = tables(read(doc)).filter((table) => table.results.length > 0);
    const wrong = sourced.flatMap((table) => {
      const missing = table.results.filter((file) => !existsSync(join(ROOT, file)));
      if (missing.length > 0) return [`line ${table.line}: no ${missing.join(', ')}`];
      const pool = resultNumbers(table.results.map((file) => JSON.parse(read(file)) as unknown));
      return unmatchedFigures(table, pool).map((f) => `line ${table.line}: ${f}`);
    });
    expect(wrong).toEqual([]);
  });
});

describe('the docs checks themselves', () => {
  it('see a figure that is in no results file', () => {
    const [table] = tables(
      'From `bench/results/x.json`:\n\n| what | n |\n| --- | --- |\n| a | 1,234 |\n| b | 0.5× |\n',
    );
    const pool = resultNumbers([{ rows: [{ n: 1234.4 }], table: '| 0.50× |' }]);
    expect(table?.results).toEqual(['bench/results/x.json']);
    expect(unmatchedFigures(table!, pool)).toEqual([]);
    expect(unmatchedFigures(table!, resultNumbers([{ n: 1236 }]))).toEqual(['1,234', '0.5']);
  });

  it('read units and thousands separators', () => {
    expect(numbersIn('9.2 s (1,066–1,112 ms), 31 %')).toEqual(['9.2', '1,066', '1,112', '31']);
    const pool = resultNumbers([{ ms: 9153, us: 7753 }]);
    const [table] = tables(
      '`bench/results/y.json`\n\n| x | s | ms |\n| - | - | - |\n| a | 9.2 | 7.8 |',
    );
    expect(unmatchedFigures(table!, pool)).toEqual([]);
  });

  it('find links outside code, and anchors as GitHub makes them', () => {
    const text =
      '[a](docs/a.md#dead-letters) `[b](nope.md)`\n```\n[c](nope.md)\n```\n<https://x.y>';
    expect(linkTargets(text)).toEqual(['docs/a.md#dead-letters']);
    expect(headingSlugs('## Dead letters\n## `npm run dlq`: the tool\n## Dead letters')).toEqual(
      new Set(['dead-letters', 'npm-run-dlq-the-tool', 'dead-letters-1']),
    );
    expect(npmScripts('`npm run test:e2e -- -t x`, npm run start:<name>')).toEqual(['test:e2e']);
  });
});
