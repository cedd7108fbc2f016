/**
 * `npm run new:service -- <name> [--rpc <service>.<verb>]… [--event <message>]… [--http] [--db]`
 * creates apps/<name> shaped like the sample services (config, module, handlers, migrations,
 * unit and e2e tests), its contracts, and adds it to nest-cli.json, docker-compose.yml, the
 * Dockerfile, .env.example, README's service table, apps/services.ts and Prometheus' scrape
 * jobs. Everything is checked before anything is written. docs/extending.md walks through it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// Relative, not @app/contracts: `npm run new:service` compiles this file and what it imports
// with plain tsc (tools/tsconfig.new-service.json), a third of a full build, which would
// leave an alias unresolved at run time.
import * as contractsModule from '../libs/contracts/src/index.js';
import { isContract } from '../libs/contracts/src/index.js';
import { isEntryModule } from './entry.js';
import { type Files, plan } from './new-service/plan.js';
import type { KnownContract, Request } from './new-service/spec.js';
import { writeChanges } from './new-service/write.js';

const USAGE = `usage: npm run new:service -- <name> [options]

  <name>                 kebab-case letters, e.g. payment or gift-card
  --rpc <name>.<verb>    an RPC the service answers; its contract is created (repeatable)
  --event <message>      an event it consumes: an existing one (order.confirmed) or a new
                         <name>.<something> whose contract is created (repeatable)
  --http                 an HTTP controller under /<name>
  --db                   a table and migrations (implied by --event: the inbox needs them)
  --port <n>             its HTTP port (default: the next one after those in use)
  --dry-run              list what would be written, write nothing

Exit codes: 0 created, 1 failed, 2 refused (nothing written).`;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Every contract @app/contracts exports, by the constant that exports it. */
export function knownContracts(module: Readonly<Record<string, unknown>>): KnownContract[] {
  return Object.entries(module)
    .filter(([, value]) => isContract(value))
    .map(([constant, value]) => {
      const c = value as KnownContract;
      return { constant, name: c.name, kind: c.kind, version: c.version };
    })
    .sort((a, b) => a.version - b.version);
}

export function repoFiles(root: string): Files {
  return {
    read: (path) =>
      existsSync(join(root, path)) ? readFileSync(join(root, path), 'utf8') : undefined,
    list: (dir) => (existsSync(join(root, dir)) ? readdirSync(join(root, dir)) : []),
  };
}

export async function main(argv: readonly string[], root: string, io: Io): Promise<number> {
  let request: Request & { dryRun: boolean };
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        rpc: { type: 'string', multiple: true, default: [] },
        event: { type: 'string', multiple: true, default: [] },
        http: { type: 'boolean', default: false },
        db: { type: 'boolean', default: false },
        port: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (positionals.length > 1) throw new Error(`one name at a time: ${positionals.join(' ')}`);
    request = { ...values, name: positionals[0], dryRun: values['dry-run'] };
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!existsSync(join(root, 'nest-cli.json'))) {
    io.err(`Run it from the repository root (no nest-cli.json in ${root}).`);
    return 2;
  }
  const planned = await plan(request, repoFiles(root), knownContracts(contractsModule));
  if (!planned.ok) {
    io.err(`Nothing was written:\n${planned.problems.map((p) => `  - ${p}`).join('\n')}`);
    return 2;
  }
  const { spec, changes } = planned;
  const list = (prefix: string, edited: boolean) =>
    changes
      .filter((c) => (c.previous !== undefined) === edited)
      .map((c) => `  ${prefix} ${c.path}`);
  if (request.dryRun) {
    io.out([`Would write (nothing written):`, ...list('+', false), ...list('~', true)].join('\n'));
    return 0;
  }
  writeChanges(root, changes);
  io.out(
    [
      `Created ${spec.name} (HTTP :${spec.port}, schema ${spec.schema}):`,
      ...list('+', false),
      ...list('~', true),
      '',
      'Next:',
      '  npm run docs:asyncapi      # builds, and documents the new messages',
      `  npm run test:unit -- --testPathPatterns apps/${spec.name} libs/contracts test/docs`,
      `  npm run test:e2e -- --testPathPatterns test/${spec.name}`,
      `  npm run start:${spec.name}`,
      'docs/extending.md shows how to make it yours.',
    ].join('\n'),
  );
  return 0;
}

if (isEntryModule(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2), process.cwd(), {
    out: (text) => console.log(text),
    err: (text) => console.error(text),
  });
}
