import { describe, expect, it } from '@jest/globals';
import { limitOf, matches, selectsAll } from './filter.js';
import type { DeadLetterSummary } from './summary.js';

const summary: DeadLetterSummary = {
  messageId: 'm-1',
  type: 'order.confirmed',
  reason: 'retries-exhausted',
  error: 'smtp down',
  attempts: 4,
  originalQueue: 'notification.events',
  failedAt: '2025-01-01T00:00:00.000Z',
  service: 'notification',
  correlationId: 'req-1',
  size: 42,
  deadLetteredBy: 'service',
};

describe('matches', () => {
  it('selects every message when no criterion is given', () => {
    expect(matches(summary, {})).toBe(true);
    expect(matches(summary, { count: 1 })).toBe(true);
  });

  it('compares type, reason and message id exactly', () => {
    expect(matches(summary, { type: 'order.confirmed' })).toBe(true);
    expect(matches(summary, { type: 'order' })).toBe(false);
    expect(matches(summary, { type: 'ORDER.CONFIRMED' })).toBe(false);
    expect(matches(summary, { reason: 'retries-exhausted' })).toBe(true);
    expect(matches(summary, { reason: 'rejected' })).toBe(false);
    expect(matches(summary, { messageId: 'm-1' })).toBe(true);
    expect(matches(summary, { messageId: 'm-2' })).toBe(false);
  });

  it('requires every criterion given', () => {
    expect(matches(summary, { type: 'order.confirmed', reason: 'retries-exhausted' })).toBe(true);
    expect(matches(summary, { type: 'order.confirmed', reason: 'invalid' })).toBe(false);
  });

  it('does not let a message without a type match a type filter', () => {
    expect(matches({ ...summary, type: undefined }, { type: 'order.confirmed' })).toBe(false);
  });
});

describe('selectsAll', () => {
  it('is true only without any criterion or count', () => {
    expect(selectsAll({})).toBe(true);
    expect(selectsAll({ type: 'order.confirmed' })).toBe(false);
    expect(selectsAll({ count: 5 })).toBe(false);
  });
});

describe('limitOf', () => {
  it('uses the count, or the fallback without one', () => {
    expect(limitOf({ count: 3 }, 50)).toBe(3);
    expect(limitOf({}, 50)).toBe(50);
  });

  it('refuses a count that is not a whole number of at least 1', () => {
    expect(() => limitOf({ count: 0 }, 50)).toThrow(RangeError);
    expect(() => limitOf({ count: -1 }, 50)).toThrow(RangeError);
    expect(() => limitOf({ count: 1.5 }, 50)).toThrow(RangeError);
  });
});
