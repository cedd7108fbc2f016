import type { ServiceSpec } from '../spec.js';

/** `apps/<name>/src/…` files that wire the service; the output is formatted by prettier. */
export function mainFile(s: ServiceSpec): string {
  return `import 'reflect-metadata';
import { runService } from '@app/platform';
import { ${s.camel}Service } from './${s.name}-app.module.js';

await runService(${s.camel}Service);
`;
}

export function configFile(s: ServiceSpec): string {
  return `import {
  type Env,
  loadServiceConfig,
  type ServiceConfig,
  type ServiceDefaults,
} from '@app/platform';
import { z } from 'zod';

/**
 * The variables only this service reads (the common ones are in @app/platform serviceEnv).
 * Give each a default or document it in .env.example; docker-compose.yml sets the others.
 */
export const ${s.camel}Env = z.object({});

export interface ${s.pascal}Config extends ServiceConfig {
  ${s.camel}: z.infer<typeof ${s.camel}Env>;
}

/** Its HTTP port and database schema, unless HTTP_PORT / DATABASE_SCHEMA say otherwise. */
export const ${s.camel}Defaults: ServiceDefaults = { port: ${s.port}, schema: '${s.schema}' };

export function load${s.pascal}Config(env: Env = process.env): ${s.pascal}Config {
  const { config, env: own } = loadServiceConfig(
    '${s.name}',
    env,
    ${s.camel}Defaults,
    ${s.camel}Env,
  );
  return { ...config, ${s.camel}: own };
}
`;
}

export function moduleFile(s: ServiceSpec): string {
  const controllers = [
    s.rpcs.length > 0 && [`${s.pascal}RpcController`, `${s.name}.rpc.controller`],
    s.events.length > 0 && [`${s.pascal}EventsController`, `${s.name}.events.controller`],
    s.http && [`${s.pascal}HttpController`, `${s.name}.http.controller`],
  ].filter((c): c is string[] => Boolean(c));
  const imports = [
    `import { ${s.camel}Migrations } from './migrations/index.js';`,
    `import { load${s.pascal}Config, type ${s.pascal}Config } from './${s.name}.config.js';`,
    ...controllers.map(([cls, file]) => `import { ${cls} } from './${file}.js';`),
    ...(s.db ? [`import { ${s.pascal}Repository } from './${s.name}.repository.js';`] : []),
    `import { ${s.pascal}Service } from './${s.name}.service.js';`,
  ];
  const providers = [...(s.db ? [`${s.pascal}Repository`] : []), `${s.pascal}Service`];
  const defaults = s.db
    ? `{ migrations: ${s.camel}Migrations, outbox: {} }`
    : `{ migrations: ${s.camel}Migrations }`;
  return `import { type DynamicModule, Module } from '@nestjs/common';
import { type ServiceDefinition, ServiceDefaultsModule } from '@app/platform';
${imports.join('\n')}

@Module({})
export class ${s.pascal}AppModule {
  static forRoot(config: ${s.pascal}Config): DynamicModule {
    return {
      module: ${s.pascal}AppModule,
      imports: [ServiceDefaultsModule.forRoot(config, ${defaults})],
      controllers: [${controllers.map(([cls]) => cls).join(', ')}],
      providers: [${providers.join(', ')}],
    };
  }
}

/** How main.ts, the e2e tests and tools build this service (listed in apps/services.ts). */
export const ${s.camel}Service: ServiceDefinition<${s.pascal}Config> = {
  loadConfig: load${s.pascal}Config,
  module: (config) => ${s.pascal}AppModule.forRoot(config),
  // HTTP status of each domain error code (a message handler's error keeps its code).
  errorStatus: { ${s.db ? `'${s.errorPrefix}.RECORD_NOT_FOUND': 404` : ''} },
};
`;
}

export function migrationsIndexFile(s: ServiceSpec): string {
  const initial = s.db ? `import * as initial from './001-initial.js';\n` : '';
  return `import type { Migrations } from '@app/database';
${initial}
/** Applied in name order; never edit one that has shipped, add the next. */
export const ${s.camel}Migrations: Migrations = {
  ${s.db ? `'001-initial': initial,` : ''}
};
`;
}

export function initialMigrationFile(): string {
  return `import { createInboxTable, createOutboxTable, outboxHeadersMigration } from '@app/outbox';
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('records')
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('data', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql\`now()\`))
    .addPrimaryKeyConstraint('records_pk', ['type', 'id'])
    .execute();
  // Events this service consumes are deduplicated in the inbox; those it publishes leave
  // through the outbox, in the transaction of the change that caused them.
  await createInboxTable(db);
  await createOutboxTable(db);
  // The outbox table is built in steps; services that shipped before a step take it as a
  // migration of their own ('002-outbox-headers' in order and inventory). A new service takes
  // every step here, so its outbox has each column @app/outbox writes (headers) from the start.
  await outboxHeadersMigration.up(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('outbox_messages').execute();
  await db.schema.dropTable('inbox_messages').execute();
  await db.schema.dropTable('records').execute();
}
`;
}
