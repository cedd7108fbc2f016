import { createInboxTable } from '@app/outbox';
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('notifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('event_id', 'text', (c) => c.notNull().unique())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('order_id', 'uuid')
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('notifications_order_id')
    .on('notifications')
    .column('order_id')
    .execute();
  await createInboxTable(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('inbox_messages').execute();
  await db.schema.dropTable('notifications').execute();
}
