import { describe, expect, it } from '@jest/globals';
import { BackgroundTasks } from './background-tasks.js';

describe('BackgroundTasks', () => {
  it('hands a failure to onError and drains only once every task has ended', async () => {
    const failures: [string, string][] = [];
    const tasks = new BackgroundTasks((error, name) =>
      failures.push([name, (error as Error).message]),
    );
    let fail!: (error: Error) => void;
    let finish!: () => void;
    tasks.start('fails', () => new Promise((_, reject) => (fail = reject)));
    tasks.start('succeeds', () => new Promise<void>((resolve) => (finish = resolve)));

    let drained = false;
    const drain = tasks.drain().then(() => (drained = true));
    fail(new Error('database gone'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    expect(tasks.size).toBe(1);

    finish();
    await drain;
    expect(failures).toEqual([['fails', 'database gone']]);
    expect(tasks.size).toBe(0);
  });
});
