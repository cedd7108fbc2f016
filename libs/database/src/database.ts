import { Logger } from '@nestjs/common';
import pg from 'pg';
import type { Statement } from './statement.js';

export interface DatabaseOptions {
  url: string;
  /** The service's own schema: every unqualified table name resolves there. */
  schema: string;
  /** Connections in the pool (DB_POOL_SIZE): the most statements the service runs at once. */
  poolSize: number;
}

const logger = new Logger('Database');

// bigint columns (bigserial ids, counts) come back as strings; keep them exact.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

/**
 * A pool of connections on the service's schema, in pipeline mode: a statement is sent as
 * soon as it is issued, behind the ones still running on its connection, so a transaction's
 * independent statements share round trips (see `Transaction`).
 */
export function createPool(options: Pick<DatabaseOptions, 'url' | 'schema' | 'poolSize'>): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    pipeline: true,
    // search_path makes the service schema the default for every query and migration.
    options: `-c search_path=${options.schema}`,
  } as pg.PoolConfig);
  // A connection the server drops (restart, failover, network) must not crash the process.
  // Idle ones are reported on the pool; a checked-out one (say, inside a transaction waiting
  // on SMTP) only on itself, because pg-pool removes its listener while it is lent out. The
  // pending query fails, the transaction rolls back, and the pool discards the connection.
  pool.on('error', (error) => logger.warn(`Idle database connection lost: ${error.message}`));
  pool.on('connect', (client) =>
    client.on('error', (error) => logger.warn(`Database connection lost: ${error.message}`)),
  );
  return pool;
}

/** Statements outside a transaction (reads, single-statement writes) on the service's pool. */
export class Database {
  constructor(readonly pool: pg.Pool) {}

  async query<Row, Params extends readonly unknown[]>(
    statement: Statement<Row, Params>,
    params: Params,
  ): Promise<Row[]> {
    const result = await this.pool.query<Row & pg.QueryResultRow>({
      name: statement.name,
      text: statement.text,
      values: params as unknown as unknown[],
    });
    return result.rows;
  }

  /** The first row, or undefined. */
  async first<Row, Params extends readonly unknown[]>(
    statement: Statement<Row, Params>,
    params: Params,
  ): Promise<Row | undefined> {
    return (await this.query(statement, params))[0];
  }

  /** A round trip to the server (readiness). */
  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
