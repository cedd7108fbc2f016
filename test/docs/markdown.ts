// Just enough Markdown reading for test/docs/docs.spec.ts: links, headings, `npm run` names,
// and the tables of figures with the results files the text before each one names.

/** The text without fenced code blocks (for links and headings; `npm run` may sit in them). */
const withoutFences = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '');
const withoutCode = (text: string) => withoutFences(text).replace(/`[^`\n]*`/g, '');

/** Targets of `[text](target)` links and images outside code, except absolute URLs. */
export function linkTargets(markdown: string): string[] {
  return [...withoutCode(markdown).matchAll(/\[[^\]]*\]\(([^)\s]+)[^)]*\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** The anchors GitHub gives the headings: lower case, punctuation gone, spaces as dashes. */
export function headingSlugs(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const slugs = new Set<string>();
  for (const [, text] of withoutFences(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const slug = text!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    slugs.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return slugs;
}

/** Script names of `npm run <script>`, in code too; placeholders (`start:<name>`) skipped. */
export function npmScripts(markdown: string): string[] {
  const names = [...markdown.matchAll(/npm run ([\w:-]*\w)(?![\w:<-])/g)].map((m) => m[1]!);
  return [...new Set(names)];
}

/** Figures as written: `1,234`, `0.98`, `12` (thousands separators kept for messages). */
export function numbersIn(text: string): string[] {
  return text.match(/\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?/g) ?? [];
}

export interface Table {
  /** 1-based line of the header row. */
  line: number;
  rows: string[][];
  /** `bench/results/*.json` files named between the previous table or heading and this one. */
  results: string[];
  /** The text before the table says "no results file" (and why). */
  noResultsFile: boolean;
  /** The figures of the body, first column (the row's label) left out. */
  figures: string[];
}

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((c) => c.trim());

/** Every table outside code blocks, with what the text before it says about its source. */
export function tables(markdown: string): Table[] {
  const lines = markdown.split('\n');
  const found: Table[] = [];
  let before: string[] = [];
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced || line.startsWith('```')) continue;
    if (/^#{1,6}\s/.test(line)) before = [];
    const isTable = line.startsWith('|') && /^\|[\s:|-]+\|$/.test(lines[i + 1]?.trim() ?? '');
    if (!isTable) {
      before.push(line);
      continue;
    }
    const start = i;
    const rows: string[][] = [];
    for (; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(cells(lines[i]!));
    const text = before.join('\n');
    found.push({
      line: start + 1,
      rows,
      results: [...new Set(text.match(/bench\/results\/[\w.-]+\.json/g) ?? [])],
      noResultsFile: /no results file/i.test(text),
      figures: rows.slice(2).flatMap((row) => row.slice(1).flatMap(numbersIn)),
    });
    before = [];
  }
  return found;
}

/**
 * Every number in results reports: each numeric value, each number written in their strings
 * (the bench's Markdown table), and for bench reports the ratio of two variants' medians of one
 * metric of one workload (the ×raw of figures the bench prints without a ratio).
 */
export function resultNumbers(reports: unknown[]): number[] {
  const pool: number[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'number') pool.push(value);
    else if (typeof value === 'string')
      pool.push(...numbersIn(value).map((n) => Number(n.replace(/,/g, ''))));
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  for (const report of reports) {
    walk(report);
    pool.push(...medianRatios(report));
  }
  return pool;
}

interface BenchRow {
  workload: string;
  summary: Record<string, { median?: number } | Record<string, { median: number }>>;
}

function medianRatios(report: unknown): number[] {
  const rows = (report as { rows?: unknown }).rows;
  if (!Array.isArray(rows)) return [];
  const medians = (row: BenchRow) =>
    Object.entries(row.summary ?? {}).flatMap(([metric, value]) =>
      typeof value?.median === 'number'
        ? [[metric, value.median] as const]
        : Object.entries(value as Record<string, { median: number }>).map(
            ([extra, v]) => [`${metric}.${extra}`, v.median] as const,
          ),
    );
  const ratios: number[] = [];
  for (const a of rows as BenchRow[])
    for (const b of rows as BenchRow[]) {
      if (a === b || a.workload !== b.workload) continue;
      const of = new Map(medians(b));
      for (const [metric, median] of medians(a)) {
        const other = of.get(metric);
        if (other) ratios.push(median / other);
      }
    }
  return ratios;
}

/**
 * The figures of a table no number of the pool gives, rounded as the figure is written,
 * as is or in the next unit (ms → s, µs → ms).
 */
export function unmatchedFigures(table: Table, pool: number[]): string[] {
  return table.figures.filter((figure) => {
    const value = Number(figure.replace(/,/g, ''));
    const decimals = figure.split('.')[1]?.length ?? 0;
    const tolerance = 0.5 * 10 ** -decimals + 1e-9;
    return !pool.some((n) => [n, n / 1000].some((x) => Math.abs(x - value) <= tolerance));
  });
}
