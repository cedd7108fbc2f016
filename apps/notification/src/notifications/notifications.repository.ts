import { Injectable } from '@nestjs/common';
import { Database, type Transaction } from '@app/database';
import type { Email } from './email.js';
import * as sql from './notifications.statements.js';

export interface SentNotification {
  id: string;
  eventId: string;
  eventType: string;
  orderId: string | null;
  recipient: string;
  subject: string;
  sentAt: string;
}

/** SQL for the record of sent e-mails, nothing else. */
@Injectable()
export class NotificationsRepository {
  constructor(private readonly db: Database) {}

  recordSent(tx: Transaction, eventId: string, eventType: string, email: Email): void {
    tx.write(sql.insertNotification, [
      eventId,
      eventType,
      email.orderId,
      email.to,
      email.subject,
      email.text,
    ]);
  }

  async wasSent(orderId: string, eventType: string): Promise<boolean> {
    return (await this.db.first(sql.findSent, [orderId, eventType])) !== undefined;
  }

  async list(filter: { orderId?: string; limit: number }): Promise<SentNotification[]> {
    const rows = await this.db.query(sql.listNewestFirst, [filter.orderId ?? null, filter.limit]);
    return rows.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      eventType: r.event_type,
      orderId: r.order_id,
      recipient: r.recipient,
      subject: r.subject,
      sentAt: r.sent_at.toISOString(),
    }));
  }
}
