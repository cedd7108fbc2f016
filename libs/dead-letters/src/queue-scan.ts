import type { ConfirmChannel, GetMessage } from 'amqplib';
import { type DeadLetterFilter, matches } from './filter.js';
import { type DeadLetterSummary, summarize } from './summary.js';

export type StopReason = 'end' | 'count' | 'scan-limit' | 'timeout';

export interface ScanBounds {
  /** Matches to hand on at most. */
  limit: number;
  /** Messages to read at most. */
  scanLimit: number;
  /** Epoch ms after which the scan stops. */
  deadline: number;
}

/**
 * Reads `queue` message by message, at most the messages it held when the scan began, and
 * hands each match to `act`, which may settle it; every message left unsettled is requeued
 * when the scan ends, in its place.
 */
export async function scanQueue(
  ch: ConfirmChannel,
  queue: string,
  filter: DeadLetterFilter,
  bounds: ScanBounds,
  act: (msg: GetMessage, summary: DeadLetterSummary) => Promise<void>,
): Promise<{ scanned: number; stoppedBy: StopReason }> {
  let scanned = 0;
  let matched = 0;
  let depth = Number.POSITIVE_INFINITY;
  const boundReached = (): StopReason | undefined => {
    if (scanned >= depth) return 'end';
    if (matched >= bounds.limit) return 'count';
    if (scanned >= bounds.scanLimit) return 'scan-limit';
    if (Date.now() > bounds.deadline) return 'timeout';
    return undefined;
  };
  let stoppedBy: StopReason | undefined;
  try {
    while (!(stoppedBy = boundReached())) {
      const msg = await ch.get(queue, { noAck: false });
      if (!msg) {
        stoppedBy = 'end';
        break;
      }
      if (scanned === 0) depth = msg.fields.messageCount + 1;
      scanned++;
      const summary = summarize(msg);
      if (!matches(summary, filter)) continue;
      matched++;
      await act(msg, summary);
    }
  } finally {
    // Every delivery not settled above goes back, in its place.
    safely(() => ch.nackAll(true));
  }
  return { scanned, stoppedBy };
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the channel is already closed: the broker requeued its unacked deliveries itself
  }
}
