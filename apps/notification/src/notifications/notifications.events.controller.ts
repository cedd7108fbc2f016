import { Controller } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  InventoryStockLow,
  OrderCancelled,
  OrderConfirmed,
  OrderRejected,
  type PayloadOf,
} from '@app/contracts';
import { AmqpContext, HandleEvent } from '@app/messaging';
import type { NotificationConfig } from '../notification.config.js';
import {
  orderCancelledEmail,
  orderConfirmedEmail,
  orderRejectedEmail,
  stockLowEmail,
} from './email.js';
import { EmailSequence } from './email-sequence.service.js';
import { NotificationsService } from './notifications.service.js';

@Controller()
export class NotificationsEventsController {
  private readonly opsEmail: string;

  constructor(
    private readonly notifications: NotificationsService,
    private readonly sequence: EmailSequence,
    config: ConfigService<NotificationConfig, true>,
  ) {
    this.opsEmail = config.get('mail', { infer: true }).opsEmail;
  }

  @HandleEvent(OrderConfirmed)
  onOrderConfirmed(@Payload() event: PayloadOf<typeof OrderConfirmed>, @Ctx() ctx: AmqpContext) {
    return this.notifications.sendOnce(
      ctx.messageId,
      OrderConfirmed.name,
      orderConfirmedEmail(event),
    );
  }

  @HandleEvent(OrderRejected)
  onOrderRejected(@Payload() event: PayloadOf<typeof OrderRejected>, @Ctx() ctx: AmqpContext) {
    return this.notifications.sendOnce(
      ctx.messageId,
      OrderRejected.name,
      orderRejectedEmail(event),
    );
  }

  /** Only a confirmed order can be cancelled: the customer hears of the confirmation first. */
  @HandleEvent(OrderCancelled)
  async onOrderCancelled(
    @Payload() event: PayloadOf<typeof OrderCancelled>,
    @Ctx() ctx: AmqpContext,
  ) {
    await this.sequence.requireSent(event.orderId, OrderConfirmed.name);
    return this.notifications.sendOnce(
      ctx.messageId,
      OrderCancelled.name,
      orderCancelledEmail(event),
    );
  }

  @HandleEvent(InventoryStockLow)
  onStockLow(@Payload() event: PayloadOf<typeof InventoryStockLow>, @Ctx() ctx: AmqpContext) {
    return this.notifications.sendOnce(
      ctx.messageId,
      InventoryStockLow.name,
      stockLowEmail(event, this.opsEmail),
    );
  }
}
