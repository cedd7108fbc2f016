import { describe, expect, it } from '@jest/globals';
import * as contractsModule from '@app/contracts';
import { parse } from 'yaml';
import { knownContracts, repoFiles } from '../new-service.js';
import { passwordMatches } from './broker-user.js';
import { type Change, type Files, plan } from './plan.js';
import type { Request } from './spec.js';

const root = new URL('../../', import.meta.url).pathname;
const known = knownContracts(contractsModule);
const payment: Request = {
  name: 'payment',
  rpc: ['payment.authorize'],
  event: ['order.confirmed'],
  http: true,
  db: true,
};

/** The real repository with `changes` applied in memory: nothing is written. */
function withChanges(changes: readonly Change[]): Files {
  const real = repoFiles(root);
  const written = new Map(changes.map((c) => [c.path, c.content]));
  return {
    read: (path) => written.get(path) ?? real.read(path),
    list: (dir) => {
      const inDir = [...written.keys()]
        .filter((p) => p.startsWith(`${dir}/`))
        .map((p) => p.slice(dir.length + 1).split('/')[0]!);
      return [...new Set([...real.list(dir), ...inDir])];
    },
  };
}

async function planned(request: Request, files: Files = repoFiles(root)) {
  const result = await plan(request, files, known);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  return result;
}

describe('plan', () => {
  it('creates the app, its contract and tests, and edits the files that list services', async () => {
    const { changes } = await planned(payment);

    expect(changes.filter((c) => c.previous === undefined).map((c) => c.path)).toEqual(
      expect.arrayContaining([
        'apps/payment/src/main.ts',
        'apps/payment/src/payment.config.ts',
        'apps/payment/src/payment-app.module.ts',
        'apps/payment/src/payment.rpc.controller.ts',
        'apps/payment/src/payment.events.controller.ts',
        'apps/payment/src/payment.http.controller.ts',
        'apps/payment/src/payment.statements.ts',
        'apps/payment/src/payment.repository.ts',
        'apps/payment/src/payment.service.ts',
        'apps/payment/src/migrations/index.ts',
        'apps/payment/src/migrations/001-initial.ts',
        'apps/payment/src/payment.config.spec.ts',
        'libs/contracts/src/payment/payment-authorize.rpc.ts',
        'libs/contracts/src/payment/index.ts',
        'test/payment/payment.e2e-spec.ts',
      ]),
    );
    expect(
      changes
        .filter((c) => c.previous !== undefined)
        .map((c) => c.path)
        .sort(),
    ).toEqual([
      '.env.example',
      'Dockerfile',
      'README.md',
      'apps/services.ts',
      'docker-compose.cluster.yml',
      'docker-compose.yml',
      'libs/contracts/src/index.ts',
      'libs/contracts/src/registry.ts',
      'nest-cli.json',
      'ops/prometheus/prometheus.yml',
      'ops/rabbitmq/definitions.json',
      'package.json',
    ]);
  });

  it('lays out the data like the sample apps: statements, a repository, a unit of work', async () => {
    const { changes } = await planned(payment);
    const file = (name: string) =>
      changes.find((c) => c.path === `apps/payment/src/${name}`)!.content;

    expect(changes.map((c) => c.path)).not.toContainEqual(expect.stringMatching(/\.tables\.ts$/));
    expect(file('payment.statements.ts')).toContain("import { statement } from '@app/database';");
    expect(file('payment.statements.ts')).toContain("'payment.insert-record',");
    expect(file('payment.repository.ts')).toContain(
      "import { Database, type Transaction } from '@app/database';",
    );
    const service = file('payment.service.ts');
    expect(service).toContain("import { UnitOfWork } from '@app/database';");
    expect(service).toContain("import { claimMessage, Outbox } from '@app/outbox';");
    expect(service).toContain('this.unitOfWork.run(');
    expect(service).toContain('private readonly records: PaymentRepository');
    expect(file('payment-app.module.ts')).toContain(
      'providers: [PaymentRepository, PaymentService]',
    );
    for (const name of ['payment.statements.ts', 'payment.repository.ts', 'payment.service.ts']) {
      const stale =
        /from '(kysely|pg|@app\/messaging|@app\/platform)'|\.tables\.js|\.transaction\(/;
      expect({ [name]: stale.exec(file(name))?.[0] }).toEqual({ [name]: undefined });
    }
  });

  it('types the migrations, and gives the first one every step of the outbox table', async () => {
    const { changes } = await planned(payment);
    const file = (name: string) =>
      changes.find((c) => c.path === `apps/payment/src/${name}`)!.content;

    expect(file('migrations/index.ts')).toContain(
      "import type { Migrations } from '@app/database';",
    );
    expect(file('migrations/index.ts')).toContain('export const paymentMigrations: Migrations = {');
    const initial = file('migrations/001-initial.ts');
    expect(initial).toContain(
      "import { createInboxTable, createOutboxTable, outboxHeadersMigration } from '@app/outbox';",
    );
    expect(initial).toMatch(
      /await createOutboxTable\(db\);\n(\s*\/\/.*\n)+\s*await outboxHeadersMigration\.up\(db\);/,
    );
  });

  it('gives a service without --db no data files, and an empty typed migration list', async () => {
    const { changes } = await planned({
      name: 'greeter',
      rpc: [],
      event: [],
      http: true,
      db: false,
    });
    const paths = changes.map((c) => c.path);

    expect(paths).not.toContain('apps/greeter/src/greeter.statements.ts');
    expect(paths).not.toContain('apps/greeter/src/greeter.repository.ts');
    expect(paths).not.toContain('apps/greeter/src/migrations/001-initial.ts');
    const migrations = changes.find((c) => c.path === 'apps/greeter/src/migrations/index.ts')!;
    expect(migrations.content).toContain('export const greeterMigrations: Migrations = {};');
    const service = changes.find((c) => c.path === 'apps/greeter/src/greeter.service.ts')!;
    expect(service.content).not.toMatch(/UnitOfWork|@app\/database|@app\/outbox/);
  });

  it('adds the service to nest-cli.json, compose, the Dockerfile and the npm scripts', async () => {
    const { changes } = await planned(payment);
    const file = (path: string) => changes.find((c) => c.path === path)!.content;

    expect(JSON.parse(file('nest-cli.json')).projects.payment).toMatchObject({
      type: 'application',
      entryFile: 'apps/payment/src/main',
    });
    expect(JSON.parse(file('package.json')).scripts['start:payment']).toBe(
      'nest start payment --watch',
    );
    const service = parse(file('docker-compose.yml'), { merge: true }).services.payment;
    expect(service).toMatchObject({ build: { target: 'payment' }, ports: ['127.0.0.1:3004:3004'] });
    expect(service.depends_on.rabbitmq).toEqual({ condition: 'service_healthy' });
    expect(service.environment.RABBITMQ_URL).toBe(
      'amqp://payment:payment-secret@rabbitmq:5672/shop',
    );
    const cluster = parse(file('docker-compose.cluster.yml'), { merge: true }).services.payment;
    expect(cluster.environment).toEqual({
      RABBITMQ_QUEUE_TYPE: 'quorum',
      RABBITMQ_URL: ['rabbitmq', 'rabbitmq-2', 'rabbitmq-3']
        .map((node) => `amqp://payment:payment-secret@${node}:5672/shop`)
        .join(','),
    });
    expect(file('Dockerfile')).toMatch(/FROM runtime AS payment\nENV HTTP_PORT=3004\n/);
    expect(file('README.md')).toMatch(/\| `payment` +\|.*answers `payment.authorize`/);
    expect(parse(file('ops/prometheus/prometheus.yml')).scrape_configs).toContainEqual({
      job_name: 'payment',
      metrics_path: '/metrics',
      static_configs: [{ targets: ['payment:3004'] }],
    });
  });

  it('gives the service its own broker user, limited to its own queues', async () => {
    const { changes } = await planned(payment);
    const definitions = JSON.parse(
      changes.find((c) => c.path === 'ops/rabbitmq/definitions.json')!.content,
    ) as { users: { name: string; password_hash: string }[]; permissions: object[] };

    const user = definitions.users.find((u) => u.name === 'payment')!;
    expect(passwordMatches(user.password_hash, 'payment-secret')).toBe(true);
    expect(definitions.permissions).toContainEqual({
      user: 'payment',
      vhost: 'shop',
      configure: '^payment\\..*',
      write: '^(amq\\.default|payment\\..*)$',
      read: '^(events|payment\\..*)$',
    });
    expect(definitions.permissions).toContainEqual({
      user: 'payment-dlq',
      vhost: 'shop',
      configure: '^$',
      write: '^payment\\.dlx$',
      read: '^payment\\.dlq$',
    });
  });

  it('handles an existing event with its contract, and never edits lines it does not own', async () => {
    const { changes } = await planned(payment);
    const events = changes.find((c) => c.path.endsWith('payment.events.controller.ts'))!;

    expect(events.content).toContain('@HandleEvent(OrderConfirmed)');
    for (const change of changes.filter((c) => c.previous !== undefined)) {
      const kept = change.previous!.split('\n').filter((line) => !change.content.includes(line));
      expect({ [change.path]: kept.filter((line) => !/^\|/.test(line)) }).toEqual({
        [change.path]: [],
      });
    }
  });

  it('refuses to run again on a name it generated, writing nothing', async () => {
    const { changes } = await planned(payment);

    const again = await plan(payment, withChanges(changes), known);

    expect(again).toEqual({
      ok: false,
      problems: [expect.stringContaining('apps/payment exists already: "payment" is taken')],
    });
  });

  it('refuses a name some file already lists, even without its app', async () => {
    const { changes } = await planned(payment);
    const compose = changes.filter((c) => c.path === 'docker-compose.yml');

    const result = await plan(payment, withChanges(compose), known);

    expect(result).toEqual({
      ok: false,
      problems: [
        '"payment" is already in docker-compose.yml: remove it there first, or pick another name',
      ],
    });
  });

  it('gives a second service the next port and adds its namespace to the registry', async () => {
    const first = await planned(payment);
    const second = await planned(
      { name: 'gift-card', rpc: [], event: ['gift-card.issued'], http: false, db: false },
      withChanges(first.changes),
    );

    expect(second.spec.port).toBe(3005);
    const registry = second.changes.find((c) => c.path === 'libs/contracts/src/registry.ts')!;
    expect(registry.content).toContain("import * as giftCard from './gift-card/index.js';");
    expect(registry.content).toContain('...contractsIn(payment),\n  ...contractsIn(giftCard),');
  });
});
