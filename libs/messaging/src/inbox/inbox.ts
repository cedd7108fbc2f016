import { type Transaction } from 'kysely';

/**
 * Idempotent consumer: records `messageId` as processed by `consumer` inside the transaction
 * that applies the effect. Returns false for a duplicate, whose effect is already committed
 * (or is being committed by a concurrent delivery, which this call waits for).
 */
export async function claimMessage(
  trx: Transaction<any>,
  consumer: string,
  messageId: string,
): Promise<boolean> {
  const inserted = await trx
    .insertInto('inbox_messages')
    .values({ consumer, message_id: messageId })
    .onConflict((oc) => oc.columns(['consumer', 'message_id']).doNothing())
    .returning('message_id')
    .executeTakeFirst();
  return inserted !== undefined;
}
