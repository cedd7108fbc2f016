import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApiErrorResponses,
  ApiZodQuery,
  ApiZodResponse,
  RequireApiKey,
  ZodValidationPipe,
} from '@app/platform';
import { z } from 'zod';
import { type SentNotification, NotificationsService } from './notifications.service.js';

const ListQuery = z.strictObject({
  orderId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const SentNotificationView = z.object({
  id: z.string(),
  /** The message_id of the event that caused the e-mail. */
  eventId: z.string(),
  eventType: z.string(),
  orderId: z.uuid().nullable(),
  recipient: z.email(),
  subject: z.string(),
  sentAt: z.iso.datetime(),
}) satisfies z.ZodType<SentNotification>;

@ApiTags('notifications')
@Controller('notifications')
export class NotificationsHttpController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get()
  // Every customer's address and order: operators only.
  @RequireApiKey('admin')
  @ApiOperation({
    summary: 'E-mails sent, newest first',
    description: 'Filter by order. Admin keys only.',
  })
  @ApiZodQuery(ListQuery)
  @ApiZodResponse(200, z.array(SentNotificationView), {
    description: 'The e-mails sent',
    example: [
      {
        id: '17',
        eventId: 'ceb38a80-9d26-4ea9-95d6-6d641bfe25a6',
        eventType: 'order.confirmed',
        orderId: '3e9a1c55-7b2d-4c1e-9f0a-2b3c4d5e6f70',
        recipient: 'ada@example.com',
        subject: 'Order 3e9a1c55-7b2d-4c1e-9f0a-2b3c4d5e6f70 confirmed',
        sentAt: '2030-01-02T03:04:06.000Z',
      },
    ],
  })
  @ApiErrorResponses([400, 'A bad or unknown query parameter'])
  list(
    @Query(new ZodValidationPipe(ListQuery)) query: z.infer<typeof ListQuery>,
  ): Promise<SentNotification[]> {
    return this.notifications.list(query);
  }
}
