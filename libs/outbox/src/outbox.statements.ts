import { statement } from '@app/database';

export interface OutboxRow {
  id: string;
  message_id: string;
  type: string;
  version: number;
  routing_key: string;
  payload: unknown;
  correlation_id: string | null;
  headers: Record<string, unknown> | null;
}

export const insertEvent = statement<
  never,
  [
    messageId: string,
    type: string,
    version: number,
    routingKey: string,
    payload: string,
    correlationId: string | null,
    headers: string | null,
  ]
>(
  'outbox.insert',
  `insert into outbox_messages (message_id, type, version, routing_key, payload, correlation_id, headers)
   values ($1, $2, $3, $4, $5, $6, $7)`,
);

/** Unpublished rows in insertion order; rows another replica holds are skipped, not waited for. */
export const claimBatch = statement<OutboxRow, [limit: number]>(
  'outbox.claim',
  `select id, message_id, type, version, routing_key, payload, correlation_id, headers
   from outbox_messages where published_at is null
   order by id limit $1 for update skip locked`,
);

export const markPublished = statement<never, [ids: string[]]>(
  'outbox.mark-published',
  `update outbox_messages set published_at = now() where id = any($1::bigint[])`,
);

export const pendingStats = statement<{ pending: string; age: number | null }, []>(
  'outbox.stats',
  `select count(*) as pending, extract(epoch from now() - min(created_at))::float8 as age
   from outbox_messages where published_at is null`,
);

export const deletePublishedBefore = statement<never, [before: Date]>(
  'outbox.delete-published',
  `delete from outbox_messages where published_at < $1`,
);
