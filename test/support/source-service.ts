import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { waitFor } from '@app/messaging/testing';

const REGISTER = new URL('./ts-register.mjs', import.meta.url).pathname;

/**
 * One service run from its TypeScript sources in a real Node process (`apps/<name>/src/main.ts`
 * through ts-register.mjs, no build), for what jest's module runtime cannot load in-process.
 */
export class SourceService {
  private readonly lines: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.lines.push(line));
    }
  }

  /** Starts `name` with `env` on a free port and waits until /health/ready answers 200. */
  static async start(name: string, env: Record<string, string>): Promise<SourceService> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', REGISTER, `apps/${name}/src/main.ts`], {
      cwd: new URL('../../', import.meta.url).pathname,
      env: { ...process.env, ...env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new SourceService(child, `http://127.0.0.1:${port}`);
    try {
      await waitFor(
        `${name} to answer /health/ready`,
        async () => {
          if (child.exitCode !== null) throw new Error(`${name} exited:\n${service.logs()}`);
          const res = await fetch(`${service.url}/health/ready`).catch(() => undefined);
          return res?.status === 200;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    } catch (error) {
      await service.stop();
      throw error;
    }
    return service;
  }

  logs(): string {
    return this.lines.join('\n');
  }

  /** SIGTERM (the service drains and exits), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
