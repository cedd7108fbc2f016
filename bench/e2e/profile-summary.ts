/**
 * `node dist/bench/e2e/profile-summary.js <dir>`: summarises the CPU profiles that
 * `npm run bench -- --only e2e --profile <dir>` left (one directory per variant and service),
 * keeping only the samples taken while the measured load ran (window-<pid>.json): self time
 * per order by module (package, @app library, app, Node internals, native code, GC) and the
 * top functions, as markdown.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Node {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
export interface Profile {
  nodes: Node[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}
export interface Window {
  spawnedAt: number;
  from: number;
  to: number;
  orders: number;
  /** The process's CPU per order from /proc (the profiler's own clock overcounts on a busy machine). */
  cpuMsPerOrder: number;
}

const TOP_MODULES = Number(process.env.TOP_MODULES ?? 12);
const TOP_FUNCTIONS = Number(process.env.TOP_FUNCTIONS ?? 12);

/** What a frame belongs to: an npm package, one of our libraries or apps, Node, V8. */
export function moduleOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8/native (program)';
    if (functionName === '(idle)') return '(idle)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const ours = /\/(libs|apps)\/([^/]+)\/src\//.exec(url);
  if (ours) return ours[1] === 'libs' ? `@app/${ours[2]}` : `apps/${ours[2]}`;
  if (/\/bench\/floor\//.test(url)) return 'bench/floor';
  if (/\/bench\/e2e\//.test(url)) return 'bench (query counter)';
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/.][^/]*)\//.exec(
    url.replace(/.*\/node_modules\/\.cache\//, '/'),
  );
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:'))
    return `node:${
      url
        .slice(5)
        .replace(/^internal\//, '')
        .split('/')[0]
    }`;
  return url;
}

interface Tally {
  /** µs of self time in the window, by module and by function. */
  modules: Map<string, number>;
  functions: Map<string, number>;
  /** Self time in native socket/file writes, by the nearest JS module up the stack. */
  writes: Map<string, number>;
  busy: number;
  orders: number;
}

export function tally(profile: Profile, window: Window): Tally {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The first frame up the stack that is neither native nor Node's own: who wrote. */
  const writer = (id: number): string => {
    for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
      const m = moduleOf(byId.get(at)!);
      if (!m.startsWith('native') && !m.startsWith('node:') && m !== 'V8/native (program)')
        return m;
    }
    return '(no JS caller)';
  };
  // The profile's clock starts when the process started; spawnedAt is when the bench spawned it.
  const from = (window.from - window.spawnedAt) * 1000;
  const to = (window.to - window.spawnedAt) * 1000;
  const t: Tally = {
    modules: new Map(),
    functions: new Map(),
    writes: new Map(),
    busy: 0,
    orders: window.orders,
  };
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at < from || at > to) continue;
    const frame = byId.get(profile.samples[i]!)!;
    const module = moduleOf(frame);
    if (module === '(idle)') continue;
    t.busy += delta;
    t.modules.set(module, (t.modules.get(module) ?? 0) + delta);
    if (/^native: write/.test(module)) {
      const who = writer(profile.samples[i]!);
      t.writes.set(who, (t.writes.get(who) ?? 0) + delta);
    }
    const fn = `${frame.functionName || '(anonymous)'} (${module})`;
    t.functions.set(fn, (t.functions.get(fn) ?? 0) + delta);
  }
  return t;
}

function top(map: Map<string, number>, n: number): [string, number][] {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}

export function summarise(dir: string): string {
  const out: string[] = [];
  for (const sub of readdirSync(dir).sort()) {
    const files = readdirSync(join(dir, sub));
    for (const file of files.filter((f) => f.endsWith('.cpuprofile'))) {
      const pid = /\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(file)?.[1];
      const windowFile = files.find((f) => f === `window-${pid}.json`);
      if (!windowFile) continue; // a profile of a round without a window (failed)
      const window = JSON.parse(readFileSync(join(dir, sub, windowFile), 'utf8')) as Window;
      const profile = JSON.parse(readFileSync(join(dir, sub, file), 'utf8')) as Profile;
      const t = tally(profile, window);
      // ms per order: the share of the samples times the CPU per order /proc measured.
      const perOrder = (us: number) => ((us / t.busy) * window.cpuMsPerOrder).toFixed(3);
      const share = (us: number) => `${((100 * us) / t.busy).toFixed(1)} %`;
      const writes = [...t.writes.values()].reduce((a, b) => a + b, 0);
      out.push(
        `### ${sub} (pid ${pid}): ${window.cpuMsPerOrder.toFixed(2)} ms CPU per order (/proc), ${t.orders} orders, ${(t.busy / 1000).toFixed(0)} ms sampled`,
        '',
        '| module | ms/order | share |',
        '| --- | --- | --- |',
        ...top(t.modules, TOP_MODULES).map(
          ([m, us]) => `| ${m} | ${perOrder(us)} | ${share(us)} |`,
        ),
        '',
        '| function (self time) | ms/order | share |',
        '| --- | --- | --- |',
        ...top(t.functions, TOP_FUNCTIONS).map(
          ([f, us]) => `| ${f.replaceAll('|', '\\|')} | ${perOrder(us)} | ${share(us)} |`,
        ),
        '',
        `Native writes (${share(writes)} of the samples), by the module that wrote:`,
        '',
        '| writer | ms/order | share |',
        '| --- | --- | --- |',
        ...top(t.writes, TOP_MODULES).map(([m, us]) => `| ${m} | ${perOrder(us)} | ${share(us)} |`),
        '',
      );
    }
  }
  return out.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node dist/bench/e2e/profile-summary.js <profile dir>');
    process.exitCode = 2;
  } else {
    console.log(summarise(dir));
  }
}
