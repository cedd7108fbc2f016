import { Logger } from '@nestjs/common';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import pg from 'pg';
import type { DatabaseOptions } from './database.js';

/** Migrations are Kysely's: its schema builder and its record of what was applied. */
export type Migrations = Record<string, Migration>;

/**
 * Creates the schema if needed and applies every pending migration, in name order, on a
 * connection of its own (closed afterwards). An advisory lock serialises replicas that start
 * together on a fresh database. Returns the names applied.
 */
export async function migrateToLatest(
  options: Pick<DatabaseOptions, 'url' | 'schema'>,
  migrations: Migrations,
): Promise<string[]> {
  const { schema } = options;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: 1,
    options: `-c search_path=${schema}`,
  });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  try {
    return await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(hashtext(${`migrate:${schema}`}))`.execute(conn);
      try {
        await sql`create schema if not exists ${sql.id(schema)}`.execute(conn);
        const migrator = new Migrator({
          db: conn,
          provider: { getMigrations: async () => migrations },
          migrationTableSchema: schema,
        });
        const { error, results = [] } = await migrator.migrateToLatest();
        const failed = results.find((r) => r.status === 'Error');
        if (error || failed) {
          throw new Error(
            `Migration ${failed?.migrationName ?? ''} of schema "${schema}" failed: ${(error as Error | undefined)?.message ?? 'see above'}`,
          );
        }
        const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
        if (applied.length > 0)
          new Logger('Migrations').log(`Applied to "${schema}": ${applied.join(', ')}`);
        return applied;
      } finally {
        await sql`select pg_advisory_unlock(hashtext(${`migrate:${schema}`}))`.execute(conn);
      }
    });
  } finally {
    await db.destroy();
  }
}
