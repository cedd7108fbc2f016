import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  createPool,
  Database,
  isUniqueViolation,
  statement,
  type Transaction,
  UnitOfWork,
} from '@app/database';
import type pg from 'pg';
import { createTestDatabase } from '../support/database.js';

const insertItem = statement<{ id: number }, [id: number]>(
  'uow-test.insert',
  'insert into items (id) values ($1) returning id',
);
const countItems = statement<{ n: number }, []>(
  'uow-test.count',
  'select count(*)::int as n from items',
);

describe('UnitOfWork (real PostgreSQL, pipelined statements)', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  let unitOfWork: UnitOfWork;
  /** Socket writes of every pooled connection, counted while `counting` is on. */
  let writes = 0;
  let counting = false;

  beforeAll(async () => {
    database = await createTestDatabase('uow');
    db = new Database(createPool({ url: database.url, schema: 'public', poolSize: 2 }));
    db.pool.on('connect', (client: pg.PoolClient) => {
      const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
      for (const method of ['_write', '_writev'] as const) {
        const original = socket[method]!.bind(socket) as (...args: unknown[]) => void;
        (socket as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
          if (counting) writes++;
          original(...args);
        };
      }
    });
    await db.pool.query('create table items (id int primary key)');
    unitOfWork = new UnitOfWork(db);
  });

  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  const count = async () => (await db.first(countItems, []))!.n;
  const clear = () => db.pool.query('truncate items');

  it('commits, then runs each after-commit hook once', async () => {
    await clear();
    const events: string[] = [];
    const hook = () => events.push('hook');
    const result = await unitOfWork.run(async (tx) => {
      const [row] = await tx.query(insertItem, [1]);
      tx.write(insertItem, [2]);
      tx.afterCommit(hook);
      tx.afterCommit(hook);
      tx.afterCommit(() => events.push('other'));
      events.push('work done');
      return row!.id;
    });
    expect(result).toBe(1);
    expect(events).toEqual(['work done', 'hook', 'other']);
    expect(await count()).toBe(2);
  });

  it('fails the commit when a write nobody awaited fails: nothing is kept, no hook runs', async () => {
    await clear();
    let hooked = false;
    const failed = await unitOfWork
      .run(async (tx) => {
        tx.write(insertItem, [7]);
        tx.write(insertItem, [7]); // the primary key refuses it
        tx.write(insertItem, [8]);
        tx.afterCommit(() => (hooked = true));
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(isUniqueViolation(failed)).toBe(true);
    expect(hooked).toBe(false);
    expect(await count()).toBe(0);
  });

  it('rolls back when the work throws with a statement still in flight, and the connection stays usable', async () => {
    await clear();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failure = await unitOfWork
        .run(async (tx: Transaction) => {
          void tx.query(insertItem, [3]);
          void tx.query(insertItem, [3]); // fails after the work has given up
          throw new Error('the work changed its mind');
        })
        .catch((error: Error) => error.message);
      expect(failure).toBe('the work changed its mind');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
      expect(await count()).toBe(0);
      // Both connections of the pool still work.
      await Promise.all([1, 2].map((i) => unitOfWork.run(async (tx) => tx.write(insertItem, [i]))));
      expect(await count()).toBe(2);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('sends statements that do not wait for each other together: BEGIN, the writes and COMMIT in one socket write', async () => {
    await clear();
    await unitOfWork.run(async (tx) => tx.write(insertItem, [100])); // warm: connected, prepared
    writes = 0;
    counting = true;
    try {
      await unitOfWork.run(async (tx) => {
        tx.write(insertItem, [101]);
        tx.write(insertItem, [102]);
        tx.write(insertItem, [103]);
      });
    } finally {
      counting = false;
    }
    expect(writes).toBe(1);
    expect(await count()).toBe(4);

    // A statement whose result the work awaits splits it in two round trips, not five.
    writes = 0;
    counting = true;
    try {
      await unitOfWork.run(async (tx) => {
        await tx.query(insertItem, [104]);
        tx.write(insertItem, [105]);
      });
    } finally {
      counting = false;
    }
    expect(writes).toBe(2);
  });
});
