import { Controller, Get, Query } from '@nestjs/common';
import { ZodValidationPipe } from '@app/platform';
import { z } from 'zod';
import { type SentNotification, NotificationsService } from './notifications.service.js';

const ListQuery = z.strictObject({
  orderId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

@Controller('notifications')
export class NotificationsHttpController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  list(
    @Query(new ZodValidationPipe(ListQuery)) query: z.infer<typeof ListQuery>,
  ): Promise<SentNotification[]> {
    return this.notifications.list(query);
  }
}
