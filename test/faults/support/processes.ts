import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from '@app/messaging/testing';
import { type Host, httpOn, NetnsLab } from './netns-hosts.js';
import { freePorts } from './private-broker.js';

export type ServiceName = 'order' | 'inventory' | 'notification';
export const SERVICES: readonly ServiceName[] = ['order', 'inventory', 'notification'];

const MAX_LOG_LINES = 3_000;

/**
 * A private copy of dist/, taken once per test file: `nest build` empties dist/ first, so a
 * build running meanwhile (another `npm test` on this checkout) would pull the files from
 * under a restart. It sits under node_modules/ so the copy still resolves the packages.
 */
let build: { dir: string; ready: Promise<string> } | undefined;
function builtServices(): Promise<string> {
  if (build) return build.ready;
  const dir = `node_modules/.cache/faults/dist-${process.pid}-${randomBytes(3).toString('hex')}`;
  const ready = waitFor(
    'dist/ to hold the built services (npm run build)',
    () => SERVICES.every((name) => existsSync(`dist/apps/${name}/src/main.js`)),
    { timeoutMs: 30_000, intervalMs: 500 },
  ).then(() => {
    cpSync('dist', dir, { recursive: true });
    return dir;
  });
  build = { dir, ready };
  return ready;
}

function removeBuild(): void {
  if (build) rmSync(build.dir, { recursive: true, force: true });
  build = undefined;
}

export interface ProcessOptions {
  /**
   * Where stdout and stderr go: a file the child writes itself (as a deployment's log
   * collector would take it), instead of pipes this process reads line by line.
   */
  outputFile?: string;
  /** Node options before the script, e.g. `--import` of a loader. */
  execArgv?: string[];
  /**
   * A lab host (netns-hosts.ts) to run on instead of the machine's network: the process
   * listens on the host's address, and the test probes it from that host.
   */
  host?: Host;
}

/**
 * One built service (`dist/apps/<name>/src/main.js`), or any script that answers
 * `/health/ready` on HTTP_PORT, run as a child process, so a test can kill it for real. Its
 * output is kept (the last lines) to print when a test fails. The HTTP port is chosen once,
 * so a restarted instance answers at the same URL.
 */
export class ServiceProcess {
  private static readonly all = new Set<ServiceProcess>();
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private readonly lines: string[] = [];

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly main: () => Promise<string>,
    private readonly options: ProcessOptions,
  ) {}

  /** A service on a free port, not started yet (see start()). */
  static async create(
    name: ServiceName,
    env: Record<string, string>,
    options: ProcessOptions = {},
  ): Promise<ServiceProcess> {
    const main = async () => `${await builtServices()}/apps/${name}/src/main.js`;
    return ServiceProcess.add(name, env, main, options);
  }

  /** Another script (`name` labels it), run the same way, not started yet. */
  static script(
    name: string,
    script: string,
    env: Record<string, string>,
    options: ProcessOptions = {},
  ): Promise<ServiceProcess> {
    return ServiceProcess.add(name, env, () => Promise.resolve(script), options);
  }

  private static async add(
    name: string,
    env: Record<string, string>,
    main: () => Promise<string>,
    options: ProcessOptions,
  ): Promise<ServiceProcess> {
    const [port] = await freePorts(1);
    const service = new ServiceProcess(name, port!, env, main, options);
    ServiceProcess.all.add(service);
    return service;
  }

  get url(): string {
    return `http://${this.options.host?.address ?? '127.0.0.1'}:${this.port}`;
  }

  /** The host it runs on, if a lab host. */
  get host(): Host | undefined {
    return this.options.host;
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The signal that ended the last instance (`SIGKILL` after kill()), null if it exited. */
  get exitSignal(): NodeJS.Signals | null | undefined {
    return this.running ? undefined : this.child?.signalCode;
  }

  /** What this service's instances printed, oldest first (the last 3,000 lines). */
  logs(): string {
    if (this.options.outputFile) {
      const text = existsSync(this.options.outputFile)
        ? readFileSync(this.options.outputFile, 'utf8')
        : '';
      return text.split('\n').slice(-MAX_LOG_LINES).join('\n');
    }
    return this.lines.join('\n');
  }

  /** `kill -9`: no shutdown hook runs, in-flight work is abandoned mid-way. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** SIGSTOP: the process freezes, its sockets open; nothing is read, answered or acked. */
  pause(): void {
    if (!this.running) throw new Error(`${this.name} is not running`);
    this.child!.kill('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    if (this.running) this.child!.kill('SIGCONT');
  }

  /** True while the kernel holds the process stopped (state T in /proc/<pid>/stat). */
  get paused(): boolean {
    if (!this.running) return false;
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
  }

  /** SIGTERM, then the exit code once the process has drained and exited. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited!;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Spawns an instance (a new one after kill() or stop(), same port and configuration) and
   * waits until `/health/ready` answers 200.
   */
  async start(readyTimeoutMs?: number): Promise<void> {
    if (this.running) throw new Error(`${this.name} is still running; kill or stop it first`);
    await this.spawn(readyTimeoutMs);
  }

  async waitReady(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `${this.name} to answer /health/ready with 200`,
      async () => {
        if (!this.running) throw new Error(`${this.name} exited (${this.exitDescription()})`);
        return (await this.status('/health/ready', 2_000)) === 200;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Status of `path` on this service, or 0 when it does not answer. */
  async status(path: string, timeoutMs = 5_000): Promise<number> {
    if (this.options.host) {
      return (await httpOn(this.options.host, 'GET', `${this.url}${path}`, undefined, timeoutMs))
        .status;
    }
    try {
      const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  private async spawn(readyTimeoutMs?: number): Promise<void> {
    const main = await this.main();
    this.log(`----- ${this.name} starting (${new Date().toISOString()}) -----`);
    const output = this.options.outputFile && openSync(this.options.outputFile, 'a');
    const { host } = this.options;
    const [command, ...args] = [
      ...(host ? NetnsLab.prefix(host) : []),
      process.execPath,
      ...(this.options.execArgv ?? []),
      main,
    ];
    const onHost = host ? { HTTP_HOST: host.address } : {};
    const child = spawn(command!, args, {
      cwd: process.cwd(),
      env: { ...process.env, ...this.env, ...onHost, HTTP_PORT: String(this.port) },
      stdio: ['ignore', output || 'pipe', output || 'pipe'],
    });
    if (output) closeSync(output);
    this.child = child;
    this.exited = once(child, 'exit').then(([code, signal]) => {
      this.log(`----- ${this.name} exited (${signal ?? code}) -----`);
      return code as number | null;
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.log(line));
    }
    await this.waitReady(readyTimeoutMs);
  }

  private exitDescription(): string {
    return String(this.child?.signalCode ?? this.child?.exitCode ?? 'not started');
  }

  private log(line: string): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LOG_LINES) this.lines.splice(0, this.lines.length - MAX_LOG_LINES);
  }

  /** Kills every service process still running (afterAll, and on exit as a last resort). */
  static async killAll(): Promise<void> {
    await Promise.all([...ServiceProcess.all].map((s) => s.kill()));
    ServiceProcess.all.clear();
    removeBuild();
  }

  static killAllNow(): void {
    for (const s of ServiceProcess.all) if (s.running) s.child!.kill('SIGKILL');
    removeBuild();
  }
}

export interface ExitedService {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a built service that is expected to stop by itself (a bad configuration) with exactly
 * `env` (nothing of this process' environment) in `cwd`, and returns how it ended.
 */
export async function runToExit(
  name: ServiceName,
  env: Record<string, string>,
  { cwd, timeoutMs = 20_000 }: { cwd: string; timeoutMs?: number },
): Promise<ExitedService> {
  const main = resolve(`${await builtServices()}/apps/${name}/src/main.js`);
  const child = spawn(process.execPath, [main], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, ...output };
  } finally {
    clearTimeout(timer);
  }
}

process.on('exit', () => ServiceProcess.killAllNow());
