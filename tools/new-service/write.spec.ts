import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { main } from '../new-service.js';
import { writeChanges } from './write.js';

describe('writeChanges', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'new-service-'));
    writeFileSync(join(root, 'list.txt'), 'before\n');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes new files and edits', () => {
    writeChanges(root, [
      { path: 'apps/x/src/main.ts', content: 'main\n' },
      { path: 'list.txt', content: 'after\n', previous: 'before\n' },
    ]);

    expect(readFileSync(join(root, 'apps/x/src/main.ts'), 'utf8')).toBe('main\n');
    expect(readFileSync(join(root, 'list.txt'), 'utf8')).toBe('after\n');
  });

  it('undoes everything when one write fails: nothing is half-written', () => {
    mkdirSync(join(root, 'taken'));
    writeFileSync(join(root, 'taken/file.ts'), 'someone else’s\n');

    expect(() =>
      writeChanges(root, [
        { path: 'apps/x/src/main.ts', content: 'main\n' },
        { path: 'list.txt', content: 'after\n', previous: 'before\n' },
        { path: 'taken/file.ts', content: 'mine\n' },
      ]),
    ).toThrow(/EEXIST/);

    expect(existsSync(join(root, 'apps'))).toBe(false);
    expect(readFileSync(join(root, 'list.txt'), 'utf8')).toBe('before\n');
    expect(readFileSync(join(root, 'taken/file.ts'), 'utf8')).toBe('someone else’s\n');
  });
});

describe('npm run new:service', () => {
  const root = new URL('../../', import.meta.url).pathname;
  const run = async (...argv: string[]) => {
    const io = { out: [] as string[], err: [] as string[] };
    const code = await main(argv, root, { out: (t) => io.out.push(t), err: (t) => io.err.push(t) });
    return { code, out: io.out.join('\n'), err: io.err.join('\n') };
  };

  it('refuses a bad name with exit code 2 and writes nothing', async () => {
    const { code, err } = await run('Payment', '--http');

    expect(code).toBe(2);
    expect(err).toContain('Nothing was written');
    expect(err).toContain('"Payment" is not a service name');
  });

  it('says an existing service is taken', async () => {
    const { code, err } = await run('inventory');

    expect(code).toBe(2);
    expect(err).toContain('apps/inventory exists already');
  });

  it('lists what it would write on --dry-run, and writes nothing', async () => {
    const { code, out } = await run('payment', '--rpc', 'payment.authorize', '--dry-run');

    expect(code).toBe(0);
    expect(out).toContain('+ apps/payment/src/payment.rpc.controller.ts');
    expect(out).toContain('~ docker-compose.yml');
    expect(existsSync(join(root, 'apps/payment'))).toBe(false);
  });

  it('explains its usage on an unknown option', async () => {
    const { code, err } = await run('payment', '--grpc', 'x');

    expect(code).toBe(2);
    expect(err).toContain('usage: npm run new:service');
  });
});
