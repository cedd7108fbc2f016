import { type Kysely, sql } from 'kysely';

/**
 * Orders belong to the API client that placed them (docs/security.md): reads, streams and
 * cancels see only the client's own, and an Idempotency-Key is unique per client. Orders
 * from before have no owner: only admin keys see them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('orders').addColumn('client_id', 'text').execute();
  await sql`alter table orders drop constraint orders_idempotency_key_key`.execute(db);
  await db.schema
    .createIndex('orders_client_idempotency_key')
    .on('orders')
    .columns(['client_id', 'idempotency_key'])
    .unique()
    .execute();
  await db.schema
    .createIndex('orders_client_seq')
    .on('orders')
    .columns(['client_id', 'seq'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('orders_client_seq').execute();
  await db.schema.dropIndex('orders_client_idempotency_key').execute();
  await sql`alter table orders add constraint orders_idempotency_key_key unique (idempotency_key)`.execute(
    db,
  );
  await db.schema.alterTable('orders').dropColumn('client_id').execute();
}
