import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { DeadlineTimer } from './deadline-timer.js';

describe('DeadlineTimer', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  /** A set of pending deadlines expired the way RpcCaller does it. */
  function pending() {
    const deadlines = new Set<number>();
    const expired: { deadline: number; at: number }[] = [];
    const timer = new DeadlineTimer((now) => {
      let next: number | undefined;
      for (const d of deadlines) {
        if (d <= now) {
          deadlines.delete(d);
          expired.push({ deadline: d, at: now });
        } else if (next === undefined || d < next) next = d;
      }
      return next;
    });
    const add = (deadline: number) => {
      deadlines.add(deadline);
      timer.schedule(deadline);
    };
    return { deadlines, expired, timer, add };
  }

  it('expires every deadline at its time, whatever order they came in', async () => {
    const { expired, add } = pending();
    add(5_000);
    add(1_000);
    add(3_000);
    add(3_000 + 1);

    await jest.advanceTimersByTimeAsync(10_000);

    expect(expired).toEqual([
      { deadline: 1_000, at: 1_000 },
      { deadline: 3_000, at: 3_000 },
      { deadline: 3_001, at: 3_001 },
      { deadline: 5_000, at: 5_000 },
    ]);
  });

  it('keeps one timer however many deadlines wait, and none once nothing is pending', async () => {
    const { add, deadlines } = pending();
    for (let i = 1; i <= 100; i++) add(5_000 + i);
    expect(jest.getTimerCount()).toBe(1);

    deadlines.clear(); // all settled in time
    await jest.advanceTimersByTimeAsync(5_001);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('stops for good on stop()', async () => {
    const { add, expired, timer } = pending();
    add(1_000);
    timer.stop();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(expired).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not keep the process alive by itself', () => {
    jest.useRealTimers();
    const timer = new DeadlineTimer(() => undefined);
    const spy = jest.spyOn(globalThis, 'setTimeout');
    timer.schedule(Date.now() + 60_000);
    const handle = spy.mock.results[0]!.value as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(false);
    timer.stop();
    spy.mockRestore();
  });
});
