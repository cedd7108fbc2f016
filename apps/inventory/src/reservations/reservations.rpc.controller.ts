import { Controller } from '@nestjs/common';
import { InventoryReserve, type RequestOf } from '@app/contracts';
import { HandleRpc } from '@app/messaging';
import { ReservationsService } from './reservations.service.js';

@Controller()
export class ReservationsRpcController {
  constructor(private readonly reservations: ReservationsService) {}

  @HandleRpc(InventoryReserve)
  reserve(request: RequestOf<typeof InventoryReserve>) {
    return this.reservations.reserve(request);
  }
}
