import { Controller } from '@nestjs/common';
import { OrderCancelled, OrderRejected, type PayloadOf } from '@app/contracts';
import { HandleEvent } from '@app/messaging';
import { ReservationsService } from './reservations.service.js';

/** Compensation: whatever an order holds goes back to stock when it is cancelled or rejected. */
@Controller()
export class ReservationsEventsController {
  constructor(private readonly reservations: ReservationsService) {}

  @HandleEvent(OrderCancelled)
  onOrderCancelled(event: PayloadOf<typeof OrderCancelled>) {
    return this.reservations.release(event.orderId, 'ORDER_CANCELLED');
  }

  @HandleEvent(OrderRejected)
  onOrderRejected(event: PayloadOf<typeof OrderRejected>) {
    return this.reservations.release(event.orderId, 'ORDER_REJECTED');
  }
}
