import { Logger } from '@nestjs/common';
import { Database } from './database.js';
import { Transaction } from './transaction.js';

/**
 * The only way a service changes state: `run` gives the work one `Transaction`, commits it
 * when the work resolves, rolls it back when it throws, and then runs the `afterCommit`
 * hooks the work registered (wake the outbox relay, tell status streams). Repositories
 * take the `Transaction`; nothing else opens one (a lint rule keeps it so).
 */
export class UnitOfWork {
  private readonly logger = new Logger(UnitOfWork.name);

  constructor(private readonly database: Database) {}

  async run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const client = await this.database.pool.connect();
    const tx = new Transaction(client);
    let result: T;
    try {
      tx.begin();
      result = await work(tx);
      await tx.commit();
    } catch (error) {
      // ROLLBACK, or if the connection is gone, the pool discards it.
      await tx.rollback().then(
        () => client.release(),
        (lost: Error) => client.release(lost),
      );
      throw error;
    }
    client.release();
    tx.runAfterCommit((error) =>
      this.logger.error(`An after-commit hook failed: ${(error as Error)?.message ?? error}`),
    );
    return result;
  }
}
