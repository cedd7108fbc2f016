import type { ColumnType, Generated } from 'kysely';

export interface NotificationsTable {
  id: Generated<string>;
  /** The AMQP message_id of the event that caused this e-mail. */
  event_id: string;
  event_type: string;
  order_id: string | null;
  recipient: string;
  subject: string;
  body: string;
  sent_at: ColumnType<Date, never, never>;
}

export interface NotificationTables {
  notifications: NotificationsTable;
}
