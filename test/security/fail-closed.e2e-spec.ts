import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RabbitAdmin, withVhost } from '@app/messaging/testing';
import { createTestDatabase } from '../support/database.js';
import { testEnv } from '../support/env.js';
import { SourceService } from '../support/source-service.js';

const REGISTER = new URL('../support/ts-register.mjs', import.meta.url).pathname;

/** Starts order's main.ts as `npm start` would and waits for it to exit (bounded). */
async function startAndExit(
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  const child = spawn(process.execPath, ['--import', REGISTER, 'apps/order/src/main.ts'], {
    cwd: new URL('../../', import.meta.url).pathname,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number];
  clearTimeout(timer);
  return { code, output };
}

/** A service refuses to run open or with the documented demo credentials (docs/security.md). */
describe('fail-closed start-up', () => {
  const admin = new RabbitAdmin(testEnv.managementUrl);
  let vhost: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  const env = () => ({
    RABBITMQ_URL: withVhost(testEnv.rabbitUrl, vhost),
    DATABASE_URL: database.url,
    LOG_LEVEL: 'warn',
    HTTP_RATE_LIMIT: '0',
    API_KEYS: '',
    INSECURE_DEV_MODE: '',
  });

  beforeAll(async () => {
    vhost = await admin.createVhost('test-fail-closed');
    database = await createTestDatabase('fail_closed');
  });

  afterAll(async () => {
    await admin.deleteVhost(vhost);
    await database?.drop();
  });

  it('refuses to start without API keys, saying which variable and why', async () => {
    const { code, output } = await startAndExit(env());

    expect(code).toBe(1);
    expect(output).toContain('API_KEYS: is required');
    expect(output).toContain('INSECURE_DEV_MODE=true');
  }, 90_000);

  it('refuses the documented demo keys', async () => {
    const { code, output } = await startAndExit({
      ...env(),
      API_KEYS: 'web:write:local-dev-api-key-0001',
    });

    expect(code).toBe(1);
    expect(output).toMatch(/API_KEYS: the key of client "web" is a documented demo key/);
  }, 90_000);

  it('starts open with INSECURE_DEV_MODE=true, and says so', async () => {
    const service = await SourceService.start('order', { ...env(), INSECURE_DEV_MODE: 'true' });
    try {
      expect(service.logs()).toContain('INSECURE_DEV_MODE is on');
      const res = await fetch(`${service.url}/orders`);
      expect(res.status).toBe(200);
    } finally {
      await service.stop();
    }
  }, 90_000);
});
