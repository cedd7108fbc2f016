import { Logger } from '@nestjs/common';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { type Migration, Migrator } from 'kysely/migration';
import pg from 'pg';

export interface DatabaseOptions {
  url: string;
  /** The service's own schema: every unqualified table name resolves there. */
  schema: string;
  migrations: Record<string, Migration>;
  migrateOnStart: boolean;
  poolSize?: number;
}

const logger = new Logger('Database');

// bigint columns (bigserial ids, counts) come back as strings; keep them exact.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

export function createDatabase<DB>(
  options: Pick<DatabaseOptions, 'url' | 'schema' | 'poolSize'>,
): Kysely<DB> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    // search_path makes the service schema the default for every query and migration.
    options: `-c search_path=${options.schema}`,
  });
  // A connection the server drops (restart, failover, network) must not crash the process.
  // Idle ones are reported on the pool; a checked-out one (say, inside a transaction waiting
  // on SMTP) only on itself, because pg-pool removes its listener while it is lent out. The
  // pending query fails, the transaction rolls back, and the pool discards the connection.
  pool.on('error', (error) => logger.warn(`Idle database connection lost: ${error.message}`));
  pool.on('connect', (client) =>
    client.on('error', (error) => logger.warn(`Database connection lost: ${error.message}`)),
  );
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Creates the schema if needed and applies every pending migration, in name order. An
 * advisory lock serialises replicas that start together on a fresh database.
 */
export async function migrateToLatest(
  db: Kysely<any>,
  schema: string,
  migrations: Record<string, Migration>,
): Promise<string[]> {
  return db.connection().execute(async (conn) => {
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
}
