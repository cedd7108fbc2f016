import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Every app under apps/ (npm run new:service adds one). */
const apps = readdirSync(new URL('./apps', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/** Dependency rules (STYLE.md): apps → libs, never app → app; libs never → apps. */
const boundaries = [
  ...apps.flatMap((app) => {
    const otherApps = {
      group: apps.filter((a) => a !== app).map((a) => `**/${a}/src/**`),
      message: 'Apps never import other apps; share through libs/contracts.',
    };
    const libInternals = {
      group: ['**/libs/*/src/**'],
      message: 'Import libs through their @app/* alias.',
    };
    return [
      {
        files: [`apps/${app}/**/*.ts`],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: [
                otherApps,
                libInternals,
                // Migrations (below) use Kysely's schema builder; queries are @app/database statements.
                {
                  group: ['pg', 'kysely', 'kysely/*'],
                  message: 'Use @app/database (statements, UnitOfWork).',
                },
                {
                  group: ['@app/dead-letters'],
                  message: 'Dead-letter tooling is for operators (tools/dlq.ts), not for services.',
                },
              ],
            },
          ],
        },
      },
      {
        files: [`apps/${app}/src/migrations/**/*.ts`],
        rules: { 'no-restricted-imports': ['error', { patterns: [otherApps, libInternals] }] },
      },
    ];
  }),
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/apps/**'], message: 'Libraries never depend on apps.' }] },
      ],
    },
  },
  {
    files: ['libs/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*', 'amqplib', 'amqp-connection-manager', '@app/*'],
              message: 'Contracts are plain TypeScript + zod: no framework, no transport.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/messaging/**/*.ts'],
    ignores: ['libs/messaging/src/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@app/platform', '@app/dead-letters', '@app/messaging', '@app/messaging/*'],
              message:
                'Inside a lib, import relatively; messaging depends on neither platform nor dead-letters.',
            },
            {
              group: ['@app/database', '@app/outbox', 'pg', 'kysely', 'kysely/*'],
              message: 'The transport knows no database (the outbox reaches it through a port).',
            },
            { group: ['**/apps/**'], message: 'Libraries never depend on apps.' },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/database/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@app/*'], message: 'The data layer depends on no other lib.' },
            { group: ['**/apps/**'], message: 'Libraries never depend on apps.' },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/outbox/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@app/messaging',
                '@app/messaging/*',
                '@app/platform',
                '@app/dead-letters',
                '@app/outbox',
              ],
              message:
                'The outbox reaches the broker through OutboxPublisher, never the transport; import relatively inside it.',
            },
            { group: ['**/apps/**'], message: 'Libraries never depend on apps.' },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/dead-letters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@app/platform', '@app/dead-letters', '@app/database', '@app/outbox'],
              message:
                'Dead-letter tooling uses messaging (wire, topology) and contracts, not platform; inside the lib, import relatively.',
            },
            { group: ['**/apps/**'], message: 'Libraries never depend on apps.' },
            {
              group: [
                '**/libs/*/src/**',
                '**/messaging/src/**',
                '**/contracts/src/**',
                '**/platform/src/**',
              ],
              message: 'Import other libs through their @app/* alias.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@app/dead-letters', '@app/platform'],
              message:
                'Platform serves the services: no dead-letter tooling; inside the lib, import relatively.',
            },
            { group: ['**/apps/**'], message: 'Libraries never depend on apps.' },
          ],
        },
      ],
    },
  },
  {
    // One way to change state: UnitOfWork.run (libs/database). No pool, no BEGIN elsewhere.
    files: ['apps/**/*.ts', 'libs/{outbox,platform,messaging}/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/migrations/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[property.name='pool']",
          message: 'Transactions go through UnitOfWork.run; the pool is libs/database’s.',
        },
        {
          selector: 'Literal[value=/^\\s*(begin|start\\s+transaction)\\b/i]',
          message: 'Transactions go through UnitOfWork.run, not a BEGIN of your own.',
        },
      ],
    },
  },
  {
    // Domain files: business rules only, no transport, no framework wiring. A file in a feature
    // folder without a kind suffix (orders/order.ts, reservations/reservation.ts) is domain code;
    // adapters say what they are (orders.service.ts, stock.http.controller.ts).
    files: ['apps/*/src/*/!(*.*).ts'],
    ignores: ['apps/*/src/migrations/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@nestjs/*',
                '@app/messaging',
                '@app/platform',
                'amqplib',
                'amqp-connection-manager',
                '@app/database',
                '@app/outbox',
                'pg',
                'kysely',
              ],
              message: 'Domain code knows neither AMQP, Nest nor the database.',
            },
          ],
        },
      ],
    },
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
    },
  },
  ...boundaries,
  {
    // Schema-agnostic database code takes Kysely<any>, as Kysely documents for migrations:
    // it must not depend on today's table types.
    files: ['**/migrations/**/*.ts', 'libs/outbox/src/outbox.migrations.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['test/**/*.ts', 'tools/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts', '**/*.mjs', '*.js'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
