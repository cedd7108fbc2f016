import { statement } from '@app/database';

export interface NotificationRow {
  id: string;
  /** The AMQP message_id of the event that caused this e-mail. */
  event_id: string;
  event_type: string;
  order_id: string | null;
  recipient: string;
  subject: string;
  sent_at: Date;
}

export const insertNotification = statement<
  never,
  [
    eventId: string,
    eventType: string,
    orderId: string | null,
    recipient: string,
    subject: string,
    body: string,
  ]
>(
  'notifications.insert',
  `insert into notifications (event_id, event_type, order_id, recipient, subject, body)
   values ($1, $2, $3, $4, $5, $6)`,
);

export const findSent = statement<{ id: string }, [orderId: string, eventType: string]>(
  'notifications.find-sent',
  `select id from notifications where order_id = $1 and event_type = $2 limit 1`,
);

export const listNewestFirst = statement<NotificationRow, [orderId: string | null, limit: number]>(
  'notifications.list',
  `select id, event_id, event_type, order_id, recipient, subject, sent_at from notifications
   where ($1::uuid is null or order_id = $1) order by sent_at desc limit $2`,
);
