import { type Kysely, sql } from 'kysely';
import type { Migration } from 'kysely/migration';

// The outbox's and inbox's tables, as steps the apps' own migrations take, so that every
// service's tables are the same. Never change a step that has shipped; add the next.

/** Step of a service's first migration. */
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

/**
 * The second outbox step, as a whole migration (`'002-outbox-headers'` in order and
 * inventory): headers captured at commit time (trace context) travel with the event.
 */
export const outboxHeadersMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('outbox_messages').addColumn('headers', 'jsonb').execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('outbox_messages').dropColumn('headers').execute();
  },
};

/** Step of a consuming service's first migration. */
export async function createInboxTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('inbox_messages')
    .addColumn('consumer', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('inbox_messages_pk', ['consumer', 'message_id'])
    .execute();
}
