import { statement, type Transaction } from '@app/database';

const claim = statement<{ message_id: string }, [consumer: string, messageId: string]>(
  'inbox.claim',
  `insert into inbox_messages (consumer, message_id) values ($1, $2)
   on conflict (consumer, message_id) do nothing returning message_id`,
);

/**
 * Idempotent consumer: records `messageId` as processed by `consumer` inside the transaction
 * that applies the effect. Resolves false for a duplicate, whose effect is already committed
 * (or is being committed by a concurrent delivery, which this claim waits for).
 */
export async function claimMessage(
  tx: Transaction,
  consumer: string,
  messageId: string,
): Promise<boolean> {
  return (await tx.query(claim, [consumer, messageId])).length > 0;
}
