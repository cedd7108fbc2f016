import { randomUUID } from 'node:crypto';
import type { EventContract, PayloadOf } from '@app/contracts';
import { Database, type Transaction } from '@app/database';
import type { OutboxPublisher } from './outbox-publisher.js';
import type { OutboxRelay } from './outbox-relay.js';
import { insertEvent, pendingStats } from './outbox.statements.js';

/**
 * Transactional outbox, the writing side: `add()` stores an event in the caller's
 * transaction, so it exists if and only if the state change commits, and wakes the relay
 * once it has. The event is validated now, so a bad event fails the change, not the relay.
 */
export class Outbox {
  private readonly wakeRelay: () => void;

  constructor(
    private readonly database: Database,
    private readonly publisher: OutboxPublisher,
    relay: OutboxRelay,
  ) {
    this.wakeRelay = () => relay.wake();
  }

  /**
   * Stores the event in `tx`. Nothing to await: the row is written with the transaction's
   * next round trip, and a failure fails its commit.
   */
  add<C extends EventContract>(tx: Transaction, contract: C, payload: PayloadOf<C>): void {
    // Captured now, in the context of the change (its trace, its correlation id), not when relayed.
    const { correlationId, headers } = this.publisher.contextOf(contract.name);
    tx.write(insertEvent, [
      randomUUID(),
      contract.name,
      contract.version,
      contract.name,
      JSON.stringify(contract.payload.parse(payload)),
      correlationId ?? null,
      headers ? JSON.stringify(headers) : null,
    ]);
    tx.afterCommit(this.wakeRelay);
  }

  /** Rows not yet published and the age of the oldest, for metrics. */
  async stats(): Promise<{ pending: number; oldestAgeSeconds: number }> {
    const row = (await this.database.first(pendingStats, []))!;
    return { pending: Number(row.pending), oldestAgeSeconds: Math.max(0, row.age ?? 0) };
  }
}
