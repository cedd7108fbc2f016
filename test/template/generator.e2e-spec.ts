import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { guideSteps, mustPass, shell } from './guide.js';
import { copyRepo, repoRoot } from './repo-copy.js';

/** Every file of the copy (but node_modules and dist) with a hash of its content. */
function snapshot(dir: string, prefix = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = join(prefix, entry.name);
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    if (entry.isDirectory()) Object.assign(files, snapshot(dir, path));
    else
      files[path] = createHash('sha1')
        .update(readFileSync(join(dir, path)))
        .digest('hex');
  }
  return files;
}

/**
 * docs/extending.md followed the way a new user would, in a fresh copy of the repository:
 * every `sh` block runs in order (the generator, the build, the generated tests, then the
 * guide's own changes and their checks), against the real broker and database. Between the
 * two halves, the generator's refusals and the deployment checks.
 */
describe('npm run new:service and docs/extending.md, in a fresh copy of the repository', () => {
  const steps = guideSteps(readFileSync(join(repoRoot, 'docs/extending.md'), 'utf8'));
  const step = (name: string) => {
    const found = steps.find((s) => s.checkpoint === name);
    if (!found) throw new Error(`docs/extending.md has no checkpoint "${name}"`);
    return found.blocks;
  };
  let copy: { dir: string; remove: () => Promise<void> };

  beforeAll(async () => {
    copy = await copyRepo();
  }, 60_000);

  afterAll(() => copy?.remove());

  it('has the steps this test expects, and no block it would not run', () => {
    expect(steps.map((s) => s.checkpoint)).toEqual(['generated', 'done']);
    expect(step('generated')[0]).toContain('npm run new:service -- payment');
  });

  it('generates payment, builds it, and its generated unit and e2e tests pass', async () => {
    for (const block of step('generated')) await mustPass(block, copy.dir);

    expect(existsSync(join(copy.dir, 'dist/apps/payment/src/main.js'))).toBe(true);
  }, 150_000);

  it('refuses to generate payment again, and refuses bad names, writing nothing', async () => {
    const before = snapshot(copy.dir);
    const generate = (args: string) => shell(`node dist/tools/new-service.js ${args}`, copy.dir);

    const cases: [string, string][] = [
      ['payment --http', 'apps/payment exists already: "payment" is taken'],
      ['Billing', '"Billing" is not a service name: use kebab-case letters a-z'],
      ['billing_v2 --db', 'is not a service name'],
      ['test', '"test" is reserved in this repository'],
      ['libs --http', '"libs" is reserved in this repository'],
      ['order', 'apps/order exists already'],
      ['user', 'SQL reserved word'],
      ['billing --rpc order.bill', 'an RPC is named after the service that answers it'],
    ];
    const results = await Promise.all(cases.map(([args]) => generate(args)));

    results.forEach((result, i) => {
      expect({ args: cases[i]![0], code: result.code }).toEqual({ args: cases[i]![0], code: 2 });
      expect(result.output).toContain('Nothing was written');
      expect(result.output).toContain(cases[i]![1]);
    });
    expect(snapshot(copy.dir)).toEqual(before);
  }, 60_000);

  it('keeps the deployment checks passing, now checking payment too', async () => {
    const output = await mustPass(
      'npm run test:unit -- --testPathPatterns test/deploy/compose.spec.ts --verbose',
      copy.dir,
    );

    expect(output).toContain('has a payment target that runs its compiled main.ts');
    expect(output).toContain(
      'sets every variable payment requires, pointed at the compose services',
    );
  }, 60_000);

  it("follows the guide's changes to payment: they typecheck, lint and pass their tests", async () => {
    for (const block of step('done')) await mustPass(block, copy.dir);
  }, 180_000);
});
