import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runToExit, SERVICES, ServiceProcess } from './support/processes.js';

describe('configuration checked at start-up', () => {
  // A working directory without .env: runService would load one and fill in what is missing.
  const cwd = mkdtempSync(join(tmpdir(), 'config-check-'));
  afterAll(async () => {
    await ServiceProcess.killAll();
    rmSync(cwd, { recursive: true, force: true });
  });

  it.each(SERVICES)(
    '%s exits 1 naming a bad RABBITMQ_URL and a missing DATABASE_URL',
    async (name) => {
      const exited = await runToExit(
        name,
        { PATH: process.env.PATH ?? '', RABBITMQ_URL: 'http://x', SMTP_URL: 'smtp://127.0.0.1:1' },
        { cwd },
      );

      expect(exited.code).toBe(1);
      expect(exited.stderr).toContain('Invalid configuration');
      expect(exited.stderr).toMatch(/RABBITMQ_URL[.\d]*: must be an amqp:\/\/ or amqps:\/\/ URL/);
      expect(exited.stderr).toContain('DATABASE_URL: is required');
      expect(exited.stdout).toBe(''); // stopped before building anything
    },
    30_000,
  );
});
