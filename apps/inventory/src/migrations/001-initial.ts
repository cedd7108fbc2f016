import { createOutboxTable } from '@app/outbox';
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('stock')
    .addColumn('sku', 'text', (c) => c.primaryKey())
    // The database itself refuses oversell, whatever the code does.
    .addColumn('available', 'integer', (c) => c.notNull().check(sql`available >= 0`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('reservations')
    .addColumn('order_id', 'uuid', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('PENDING', 'RESERVED', 'REJECTED', 'RELEASED')`),
    )
    .addColumn('items', 'jsonb', (c) => c.notNull())
    .addColumn('result', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await createOutboxTable(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('outbox_messages').execute();
  await db.schema.dropTable('reservations').execute();
  await db.schema.dropTable('stock').execute();
}
