import { Inject, Injectable, Logger } from '@nestjs/common';
import { claimMessage } from '@app/messaging';
import { DATABASE } from '@app/platform';
import type { Kysely } from 'kysely';
import type { NotificationTables } from '../notification.tables.js';
import type { Email } from './email.js';
import { Mailer } from './mailer.js';

export interface SentNotification {
  id: string;
  eventId: string;
  eventType: string;
  orderId: string | null;
  recipient: string;
  subject: string;
  sentAt: string;
}

const CONSUMER = 'notification.email';

@Injectable()
export class NotificationsService {
  private readonly logger = new Logger(NotificationsService.name);

  constructor(
    @Inject(DATABASE) private readonly db: Kysely<NotificationTables>,
    private readonly mailer: Mailer,
  ) {}

  /**
   * Sends `email` once per event. The inbox claim, the send and the record commit together:
   * a duplicate delivery finds the claim and sends nothing; a failed send rolls the claim
   * back so the retry sends. (A crash after SMTP accepted but before commit resends, with
   * the same Message-ID.)
   */
  async sendOnce(eventId: string, eventType: string, email: Email): Promise<void> {
    const sent = await this.db.transaction().execute(async (trx) => {
      if (!(await claimMessage(trx, CONSUMER, eventId))) return false;
      await this.mailer.send(email, eventId);
      await trx
        .insertInto('notifications')
        .values({
          event_id: eventId,
          event_type: eventType,
          order_id: email.orderId,
          recipient: email.to,
          subject: email.subject,
          body: email.text,
        })
        .execute();
      return true;
    });
    const about = email.orderId ? ` for order ${email.orderId}` : '';
    if (sent) this.logger.log(`Sent ${eventType} e-mail${about}`);
    else this.logger.debug(`${eventType} ${eventId} was handled before: nothing sent`);
  }

  async list(filter: { orderId?: string; limit: number }): Promise<SentNotification[]> {
    let query = this.db
      .selectFrom('notifications')
      .selectAll()
      .orderBy('sent_at', 'desc')
      .limit(filter.limit);
    if (filter.orderId) query = query.where('order_id', '=', filter.orderId);
    const rows = await query.execute();
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
