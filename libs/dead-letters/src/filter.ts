import type { DeadLetterSummary } from './summary.js';

/** Which dead letters a command works on; every field given must match. */
export interface DeadLetterFilter {
  /** Exact AMQP `type` (the message name, e.g. `order.confirmed`). */
  type?: string;
  /** Exact reason: ours (`retries-exhausted`, `invalid`…) or the broker's (`rejected`…). */
  reason?: string;
  messageId?: string;
  /** The most messages to return or act on. */
  count?: number;
}

export function matches(summary: DeadLetterSummary, filter: DeadLetterFilter): boolean {
  return (
    (filter.type === undefined || summary.type === filter.type) &&
    (filter.reason === undefined || summary.reason === filter.reason) &&
    (filter.messageId === undefined || summary.messageId === filter.messageId)
  );
}

/** True when the filter selects every message (a count alone still selects by position). */
export function selectsAll(filter: DeadLetterFilter): boolean {
  return (
    filter.type === undefined &&
    filter.reason === undefined &&
    filter.messageId === undefined &&
    filter.count === undefined
  );
}

/** `count`, checked; `fallback` when not given. */
export function limitOf(filter: DeadLetterFilter, fallback: number): number {
  const { count } = filter;
  if (count === undefined) return fallback;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`count must be a whole number of at least 1, got ${count}`);
  }
  return count;
}
