import { type Kysely, sql } from 'kysely';

/** Migration steps for the outbox and inbox tables; apps list them in their own migrations. */
export async function createOutboxTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('outbox_messages')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('message_id', 'uuid', (c) => c.notNull().unique())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('routing_key', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('correlation_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('published_at', 'timestamptz')
    .execute();
  // The relay only ever scans unpublished rows, in insertion order.
  await sql`create index outbox_messages_unpublished on outbox_messages (id) where published_at is null`.execute(
    db,
  );
}

/** Second outbox step: headers captured at commit time (trace context) travel with the event. */
export async function addOutboxHeaders(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox_messages').addColumn('headers', 'jsonb').execute();
}

export async function createInboxTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('inbox_messages')
    .addColumn('consumer', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('inbox_messages_pk', ['consumer', 'message_id'])
    .execute();
}
