import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { firstValueFrom, toArray } from 'rxjs';
import type { Order } from './order.js';
import { pendingOrder } from './order.fixture.js';
import { OrderStatusFeed, STATUS_POLL_MS, TooManyStreamsError } from './order-status.feed.js';
import { OrderStatusNotifier } from './order-status.notifier.js';

const pending = pendingOrder;

function feed(limits = { maxStreamsPerClient: 5, maxLifetimeMs: 60_000 }) {
  const notifier = new OrderStatusNotifier();
  const findMany = jest.fn(async (ids: string[]): Promise<Order[]> =>
    ids.map((id) => ({ ...pending, id })),
  );
  const config = { get: () => ({ statusStreams: limits }) };
  return {
    feed: new OrderStatusFeed({ findMany } as never, notifier, config as never),
    notifier,
    find: findMany,
  };
}

describe('OrderStatusFeed', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('hands each stream the re-read of its own order, changed by another replica', async () => {
    jest.useFakeTimers();
    const { feed: f, find } = feed();
    find.mockImplementation(async () => [{ ...pending, status: 'CONFIRMED' as const }]);
    const seen = firstValueFrom(f.follow(pending, 'web').pipe(toArray()));

    await jest.advanceTimersByTimeAsync(STATUS_POLL_MS);
    expect((await seen).map((o) => o.status)).toEqual(['PENDING', 'CONFIRMED']);
  });

  it('gives a settled order once and completes', async () => {
    const { feed: f } = feed();
    const confirmed = { ...pending, status: 'CONFIRMED' as const };

    expect(await firstValueFrom(f.follow(confirmed, 'web').pipe(toArray()))).toEqual([confirmed]);
  });

  it('follows a PENDING order to the change the notifier publishes, then completes', async () => {
    const { feed: f, notifier } = feed();
    const seen = firstValueFrom(f.follow(pending, 'web').pipe(toArray()));

    notifier.publish({ ...pending, status: 'PENDING' }); // no change: not repeated
    notifier.publish({ ...pending, status: 'CONFIRMED' });
    notifier.publish({ ...pending, status: 'CANCELLED' }); // after the end

    expect((await seen).map((o) => o.status)).toEqual(['PENDING', 'CONFIRMED']);
  });

  it('completes when the service shuts down', async () => {
    const { feed: f, notifier } = feed();
    const seen = firstValueFrom(f.follow(pending, 'web').pipe(toArray()));

    notifier.beforeApplicationShutdown();

    expect((await seen).map((o) => o.status)).toEqual(['PENDING']);
  });

  it('re-reads every followed order in one query per tick, however many streams follow them', async () => {
    jest.useFakeTimers();
    const { feed: f, find } = feed();
    const other = { ...pending, id: '7c0e5d1a-9b2f-4c3e-8d4a-1f2e3d4c5b6a' };
    const streams = [pending, pending, other].map((o) => f.follow(o, 'web').subscribe());

    await jest.advanceTimersByTimeAsync(STATUS_POLL_MS * 3);
    expect(find).toHaveBeenCalledTimes(3);
    expect(find).toHaveBeenLastCalledWith([pending.id, other.id]);

    streams.forEach((s) => s.unsubscribe());
    await jest.advanceTimersByTimeAsync(STATUS_POLL_MS * 3);
    expect(find).toHaveBeenCalledTimes(3); // the last stream gone, so is the poll
  });

  it('refuses a stream past the per-client cap, and frees a place when one ends', () => {
    const { feed: f } = feed({ maxStreamsPerClient: 2, maxLifetimeMs: 60_000 });
    const first = f.follow(pending, 'web').subscribe();
    const second = f.follow(pending, 'web').subscribe();

    expect(() => f.follow(pending, 'web')).toThrow(TooManyStreamsError);
    expect(() => f.follow(pending, 'other-client').subscribe().unsubscribe()).not.toThrow();

    first.unsubscribe();
    expect(f.openStreams('web')).toBe(1);
    expect(() => f.follow(pending, 'web')).not.toThrow();
    second.unsubscribe(); // its poll timer would keep jest from exiting
  });

  it('ends a stream at its maximum lifetime', async () => {
    jest.useFakeTimers();
    const { feed: f } = feed({ maxStreamsPerClient: 5, maxLifetimeMs: 10_000 });
    let completed = false;
    f.follow(pending, 'web').subscribe({ complete: () => (completed = true) });

    await jest.advanceTimersByTimeAsync(9_999);
    expect(completed).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(completed).toBe(true);
    expect(f.openStreams('web')).toBe(0);
  });
});
