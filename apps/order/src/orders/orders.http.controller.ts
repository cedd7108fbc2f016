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
import { ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApiErrorResponses,
  ApiZodBody,
  ApiZodParam,
  ApiZodQuery,
  ApiZodResponse,
  RequireApiKey,
  ZodValidationPipe,
} from '@app/platform';
import type { Response } from 'express';
import { z } from 'zod';
import type { Order } from './order.js';
import type { OrderPage } from './orders.repository.js';
import {
  CreateOrderBody,
  exampleOrder,
  exampleOrderBody,
  IdempotencyKeyHeader,
  ListOrdersQuery,
  OrderPageView,
  OrderView,
} from './orders.http.schemas.js';
import { OrdersService } from './orders.service.js';

// Nest applies no pipes to @Headers(), so the key is checked here.
const idempotencyKeyPipe = new ZodValidationPipe(
  z.object({ 'Idempotency-Key': IdempotencyKeyHeader }),
);
const OrderId = ApiZodParam('id', z.uuid(), 'The order id');

@ApiTags('orders')
@Controller('orders')
export class OrdersHttpController {
  constructor(private readonly orders: OrdersService) {}

  /** 201 with the settled order. A repeated Idempotency-Key answers with the same order. */
  @Post()
  @HttpCode(201)
  @RequireApiKey()
  @ApiOperation({
    summary: 'Place an order',
    description:
      'Stores the order PENDING, reserves its stock through inventory and answers with the final state: CONFIRMED, or REJECTED with the reason.',
  })
  @ApiZodBody(CreateOrderBody, exampleOrderBody)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Same key and same body: the same order, never a second one (1-255 characters).',
  })
  @ApiZodResponse(201, OrderView, {
    description: 'The order in its final state (CONFIRMED or REJECTED)',
    example: exampleOrder,
    headers: {
      Location: 'The URL of the order',
      'Idempotent-Replayed': '"true" when an earlier request with this key created the order',
    },
  })
  @ApiErrorResponses(400, [422, 'ORDER.IDEMPOTENCY_KEY_REUSED: the key came with another body'])
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
  @ApiOperation({ summary: 'List orders, newest first', description: 'Cursor-paginated.' })
  @ApiZodQuery(ListOrdersQuery)
  @ApiZodResponse(200, OrderPageView, {
    description: 'One page of orders',
    example: { items: [exampleOrder], nextCursor: 'c2VxOjQy' },
  })
  @ApiErrorResponses([400, 'A bad or unknown query parameter, or a cursor this API did not return'])
  list(
    @Query(new ZodValidationPipe(ListOrdersQuery)) query: z.infer<typeof ListOrdersQuery>,
  ): Promise<OrderPage> {
    return this.orders.list(query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Read an order' })
  @OrderId
  @ApiZodResponse(200, OrderView, { description: 'The order', example: exampleOrder })
  @ApiErrorResponses([400, 'The id is not a UUID'], [404, 'ORDER.NOT_FOUND'])
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<Order> {
    return this.orders.get(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @RequireApiKey()
  @ApiOperation({
    summary: 'Cancel a confirmed order',
    description: 'CONFIRMED → CANCELLED and the stock returns. Cancelling twice is harmless.',
  })
  @OrderId
  @ApiZodResponse(200, OrderView, {
    description: 'The cancelled order',
    example: { ...exampleOrder, status: 'CANCELLED' },
  })
  @ApiErrorResponses(
    [400, 'The id is not a UUID'],
    [404, 'ORDER.NOT_FOUND'],
    [409, 'ORDER.NOT_CANCELLABLE: the order is PENDING or REJECTED'],
  )
  cancel(@Param('id', new ParseUUIDPipe()) id: string): Promise<Order> {
    return this.orders.cancel(id);
  }
}
