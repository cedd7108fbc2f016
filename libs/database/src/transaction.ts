import type { Writable } from 'node:stream';
import type pg from 'pg';
import { TransactionRolledBackError } from './errors.js';
import type { Statement } from './statement.js';

/**
 * One transaction on one connection. Statements are sent the moment they are issued
 * (the pool is in pipeline mode), so statements that do not wait for each other's results
 * share a round trip: `BEGIN` and the first statement leave together, and so do the last
 * writes and `COMMIT`. Everything issued in one tick leaves in one socket write.
 *
 * `query` is for statements whose rows the caller reads; `write` for those it does not
 * (an outbox row): their failure fails the commit instead.
 */
export class Transaction {
  private readonly writes: Promise<unknown>[] = [];
  private readonly hooks = new Set<() => void>();
  private corked = false;

  constructor(private readonly client: pg.PoolClient) {}

  query<Row, Params extends readonly unknown[]>(
    statement: Statement<Row, Params>,
    params: Params,
  ): Promise<Row[]> {
    const result = this.send(statement, params).then((r) => r.rows as Row[]);
    // A caller may return (or throw) before awaiting a statement it pipelined; the
    // transaction then rolls back, and that statement's failure must not crash the process.
    result.catch(ignore);
    return result;
  }

  /** Sends a statement whose rows nobody reads; `commit` fails if it did. */
  write<Params extends readonly unknown[]>(
    statement: Statement<unknown, Params>,
    params: Params,
  ): void {
    const sent = this.send(statement, params);
    sent.catch(ignore);
    this.writes.push(sent);
  }

  /** Runs once the transaction has committed (never if it rolls back); one call per hook. */
  afterCommit(hook: () => void): void {
    this.hooks.add(hook);
  }

  /** @internal UnitOfWork: BEGIN, sent with the first statement of the work. */
  begin(): void {
    this.writes.push(this.simple('BEGIN'));
  }

  /** @internal UnitOfWork: COMMIT behind the pending writes; throws if anything failed. */
  async commit(): Promise<void> {
    const commit = this.simple('COMMIT');
    const outcomes = await Promise.allSettled([...this.writes, commit]);
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
    // A COMMIT of a transaction in which a statement failed answers ROLLBACK, not an error.
    const done = outcomes.at(-1) as PromiseFulfilledResult<pg.QueryResult>;
    if (done.value.command !== 'COMMIT') throw new TransactionRolledBackError();
  }

  /** @internal UnitOfWork */
  async rollback(): Promise<void> {
    await Promise.allSettled(this.writes);
    await this.client.query('ROLLBACK');
  }

  /** @internal UnitOfWork */
  runAfterCommit(onError: (error: unknown) => void): void {
    for (const hook of this.hooks) {
      try {
        hook();
      } catch (error) {
        onError(error);
      }
    }
  }

  private send(statement: Statement, params: readonly unknown[]): Promise<pg.QueryResult> {
    this.coalesce();
    return this.client.query({
      name: statement.name,
      text: statement.text,
      values: params as unknown[],
    });
  }

  private simple(text: string): Promise<pg.QueryResult> {
    this.coalesce();
    const sent = this.client.query(text);
    sent.catch(ignore);
    return sent;
  }

  /**
   * pg writes each statement on its own (one syscall each); corked until the end of the
   * tick, the statements issued together leave in one `writev`.
   */
  private coalesce(): void {
    if (this.corked) return;
    const socket = (this.client as unknown as { connection?: { stream?: Writable } }).connection
      ?.stream;
    if (!socket?.cork) return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }
}

function ignore(): void {}
