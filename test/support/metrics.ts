import { http } from './http.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One scrape of a `/metrics` endpoint (Prometheus text format), for assertions. */
export class Scrape {
  constructor(readonly samples: Sample[]) {}

  /** The samples of `name` whose labels include `labels`. */
  matching(name: string, labels: Record<string, string> = {}): Sample[] {
    return this.samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  }

  /** Sum over the matching samples; 0 when there is none (a counter not yet incremented). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.matching(name, labels).reduce((total, s) => total + s.value, 0);
  }

  /** The one matching sample's value, or undefined when the series is absent. */
  get(name: string, labels: Record<string, string> = {}): number | undefined {
    const found = this.matching(name, labels);
    if (found.length > 1) throw new Error(`${found.length} series of ${name} match`);
    return found[0]?.value;
  }
}

const LINE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Scrape {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = line.startsWith('#') ? null : LINE.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(LABEL)].map(([, k, v]) => [k, v.replace(/\\(.)/g, '$1')]),
    );
    samples.push({ name: match[1], labels, value: Number(match[3].replace('Inf', 'Infinity')) });
  }
  return new Scrape(samples);
}

export async function scrape(url: string): Promise<Scrape> {
  const res = await http<string>('GET', url);
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain')) {
    throw new Error(`GET ${url}: content-type ${res.headers.get('content-type')}`);
  }
  return parseMetrics(res.body);
}
