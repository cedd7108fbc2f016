import { addOutboxHeaders } from '@app/messaging';
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await addOutboxHeaders(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox_messages').dropColumn('headers').execute();
}
