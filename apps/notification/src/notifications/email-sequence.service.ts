import { Injectable } from '@nestjs/common';
import { NotificationsRepository } from './notifications.repository.js';

/**
 * An e-mail of an order arrived before the one it must follow. An ordinary (transient) error
 * on purpose: the event goes through the retry tiers and comes back once the earlier e-mail
 * has been sent; if that never happens, it ends in the DLQ with this message.
 */
export class EarlierEmailNotSentError extends Error {
  override readonly name = 'EarlierEmailNotSentError';
  readonly code = 'NOTIFICATION.EARLIER_EMAIL_NOT_SENT';

  constructor(orderId: string, earlierEvent: string) {
    super(`order ${orderId}: its ${earlierEvent} e-mail is not sent yet, so this one waits`);
  }
}

/**
 * Keeps an order's e-mails in the order of its life (docs/scaling.md, "Ordering"). RabbitMQ
 * keeps one queue's order, but events of one order can still arrive the other way round:
 * several outbox relays, a publish re-sent after a reconnect, a retry through a delay queue,
 * competing consumers and prefetch > 1 all let a later event overtake an earlier one.
 */
@Injectable()
export class EmailSequence {
  constructor(private readonly notifications: NotificationsRepository) {}

  /** Throws `EarlierEmailNotSentError` unless the e-mail for `earlierEvent` of the order is sent. */
  async requireSent(orderId: string, earlierEvent: string): Promise<void> {
    if (!(await this.notifications.wasSent(orderId, earlierEvent)))
      throw new EarlierEmailNotSentError(orderId, earlierEvent);
  }
}
