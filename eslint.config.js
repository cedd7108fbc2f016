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
  ...apps.map((app) => ({
    files: [`apps/${app}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: apps.filter((a) => a !== app).map((a) => `**/${a}/src/**`),
              message: 'Apps never import other apps; share through libs/contracts.',
            },
            { group: ['**/libs/*/src/**'], message: 'Import libs through their @app/* alias.' },
            {
              group: ['@app/dead-letters'],
              message: 'Dead-letter tooling is for operators (tools/dlq.ts), not for services.',
            },
          ],
        },
      ],
    },
  })),
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
              group: ['@app/platform', '@app/dead-letters'],
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
    // Domain files: business rules only, no transport, no framework wiring. A file in a feature
    // folder without a kind suffix (orders/order.ts, reservations/reservation.ts) is domain code;
    // adapters say what they are (orders.service.ts, stock.http.controller.ts). The two
    // notification adapters below predate the convention: renaming them waits for the
    // data-layer rewrite, which owns them.
    files: ['apps/*/src/*/!(*.*).ts'],
    ignores: [
      'apps/*/src/migrations/**',
      'apps/notification/src/notifications/{mailer,email-sequence}.ts',
    ],
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
    files: [
      '**/migrations/**/*.ts',
      'libs/messaging/src/{outbox,inbox}/**/*.ts',
      'libs/platform/src/database/*.ts',
    ],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['test/**/*.ts', 'tools/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts', '**/*.mjs', '*.js'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
