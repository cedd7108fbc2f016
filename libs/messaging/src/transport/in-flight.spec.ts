import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { InFlight } from './in-flight.js';

/** A promise the test settles by hand. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Records a promise's value once it settles, so a test can see whether it has yet. */
function watch<T>(promise: Promise<T>): { settled: boolean; value: T | undefined } {
  const state: { settled: boolean; value: T | undefined } = { settled: false, value: undefined };
  void promise.then((value) => {
    state.settled = true;
    state.value = value;
  });
  return state;
}

describe('InFlight', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('drains at once when nothing is running', async () => {
    await expect(new InFlight().drain(1_000)).resolves.toBe(true);
  });

  it('counts tracked work until it settles', async () => {
    const inFlight = new InFlight();
    const a = deferred();
    const b = deferred();

    inFlight.track(a.promise);
    inFlight.track(b.promise);
    expect(inFlight.size).toBe(2);

    a.resolve();
    await jest.advanceTimersByTimeAsync(0);
    expect(inFlight.size).toBe(1);
  });

  it('resolves true once all tracked work has finished', async () => {
    const inFlight = new InFlight();
    const a = deferred();
    const b = deferred();
    inFlight.track(a.promise);
    inFlight.track(b.promise);

    const drained = watch(inFlight.drain(10_000));
    a.resolve();
    await jest.advanceTimersByTimeAsync(0);
    expect(drained.settled).toBe(false);

    b.resolve();
    await jest.advanceTimersByTimeAsync(0);
    expect(drained).toEqual({ settled: true, value: true });
    expect(inFlight.size).toBe(0);
  });

  it('counts failed work as settled, without an unhandled rejection', async () => {
    const inFlight = new InFlight();
    const work = deferred();
    inFlight.track(work.promise);

    const drained = inFlight.drain(10_000);
    work.reject(new Error('handler blew up'));

    await expect(drained).resolves.toBe(true);
    expect(inFlight.size).toBe(0);
  });

  it('resolves false when the bound passes before the work settles', async () => {
    const inFlight = new InFlight();
    inFlight.track(deferred().promise);

    const drained = watch(inFlight.drain(5_000));
    await jest.advanceTimersByTimeAsync(4_999);
    expect(drained.settled).toBe(false);

    await jest.advanceTimersByTimeAsync(1);
    expect(drained).toEqual({ settled: true, value: false });
    expect(inFlight.size).toBe(1);
  });

  it('still forgets work that finishes after a drain gave up', async () => {
    const inFlight = new InFlight();
    const work = deferred();
    inFlight.track(work.promise);
    const drained = inFlight.drain(100);
    await jest.advanceTimersByTimeAsync(100);
    await expect(drained).resolves.toBe(false);

    work.resolve();
    await jest.advanceTimersByTimeAsync(0);

    expect(inFlight.size).toBe(0);
    await expect(inFlight.drain(100)).resolves.toBe(true);
  });

  it('leaves no timer behind once drained, so shutdown is not held up', async () => {
    const inFlight = new InFlight();
    const work = deferred();
    inFlight.track(work.promise);

    const drained = inFlight.drain(60_000);
    work.resolve();
    await drained;

    expect(jest.getTimerCount()).toBe(0);
  });
});
