import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { OrderItem } from '@app/contracts';
import { ZodValidationPipe } from '@app/platform';
import type { Response } from 'express';
import { z } from 'zod';
import type { Order } from './order.js';
import type { OrderPage } from './orders.repository.js';
import { OrdersService } from './orders.service.js';

export const CreateOrderBody = z.strictObject({
  customerEmail: z.email(),
  items: z.array(z.strictObject(OrderItem.shape)).min(1).max(100),
});

const ListOrdersQuery = z.strictObject({
  status: z.enum(['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

// Nest applies no pipes to @Headers(), so the key is checked here.
const idempotencyKeyPipe = new ZodValidationPipe(
  z.object({ 'Idempotency-Key': z.string().min(1).max(255).optional() }),
);

@Controller('orders')
export class OrdersHttpController {
  constructor(private readonly orders: OrdersService) {}

  /** 201 with the settled order. A repeated Idempotency-Key answers with the same order. */
  @Post()
  @HttpCode(201)
  async create(
    @Body(new ZodValidationPipe(CreateOrderBody)) body: z.infer<typeof CreateOrderBody>,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<Order> {
    const key = idempotencyKeyPipe.transform({ 'Idempotency-Key': idempotencyKey })[
      'Idempotency-Key'
    ];
    const { order, replayed } = await this.orders.place(body, key);
    res.setHeader('Location', `/orders/${order.id}`);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    return order;
  }

  @Get()
  list(
    @Query(new ZodValidationPipe(ListOrdersQuery)) query: z.infer<typeof ListOrdersQuery>,
  ): Promise<OrderPage> {
    return this.orders.list(query);
  }

  @Get(':id')
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<Order> {
    return this.orders.get(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(@Param('id', new ParseUUIDPipe()) id: string): Promise<Order> {
    return this.orders.cancel(id);
  }
}
