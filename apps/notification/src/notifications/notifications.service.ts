import { Injectable, Logger } from '@nestjs/common';
import { UnitOfWork } from '@app/database';
import { claimMessage } from '@app/outbox';
import type { Email } from './email.js';
import { Mailer } from './mailer.service.js';
import { NotificationsRepository, type SentNotification } from './notifications.repository.js';

export type { SentNotification };

const CONSUMER = 'notification.email';

@Injectable()
export class NotificationsService {
  private readonly logger = new Logger(NotificationsService.name);

  constructor(
    private readonly unitOfWork: UnitOfWork,
    private readonly notifications: NotificationsRepository,
    private readonly mailer: Mailer,
  ) {}

  /**
   * Sends `email` once per event. The inbox claim, the send and the record commit together:
   * a duplicate delivery finds the claim and sends nothing; a failed send rolls the claim
   * back so the retry sends. (A crash after SMTP accepted but before commit resends, with
   * the same Message-ID.)
   */
  async sendOnce(eventId: string, eventType: string, email: Email): Promise<void> {
    const sent = await this.unitOfWork.run(async (tx) => {
      if (!(await claimMessage(tx, CONSUMER, eventId))) return false;
      await this.mailer.send(email, eventId);
      this.notifications.recordSent(tx, eventId, eventType, email);
      return true;
    });
    const about = email.orderId ? ` for order ${email.orderId}` : '';
    if (sent) this.logger.log(`Sent ${eventType} e-mail${about}`);
    else this.logger.debug(`${eventType} ${eventId} was handled before: nothing sent`);
  }

  list(filter: { orderId?: string; limit: number }): Promise<SentNotification[]> {
    return this.notifications.list(filter);
  }
}
