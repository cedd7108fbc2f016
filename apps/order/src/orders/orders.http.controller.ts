import { AsyncResource } from 'node:async_hooks';
import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  type MessageEvent,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Res,
  Sse,
} from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ApiErrorResponses,
  ApiZodBody,
  ApiZodParam,
  ApiZodQuery,
  ApiZodResponse,
  type ApiClient,
  CurrentClient,
  RequireApiKey,
  ZodValidationPipe,
} from '@app/platform';
import type { Response } from 'express';
import { map, type Observable } from 'rxjs';
import { z } from 'zod';
import type { Order } from './order.js';
import { OrderStatusFeed } from './order-status.feed.js';
import type { OrderPage, Owner } from './orders.repository.js';
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

/** Whose orders a caller sees: its own, or everyone's with an admin key. */
function ownerFor(client: ApiClient): Owner {
  return client.role === 'admin' ? undefined : client.id;
}

/** RFC 7240: `Prefer: respond-async` (among other preferences, with or without parameters). */
export function prefersAsync(prefer: string | undefined): boolean {
  return (prefer ?? '')
    .split(',')
    .some((preference) => preference.split(/[;=]/)[0]!.trim().toLowerCase() === 'respond-async');
}

@ApiTags('orders')
@Controller('orders')
export class OrdersHttpController {
  constructor(
    private readonly orders: OrdersService,
    private readonly feed: OrderStatusFeed,
  ) {}

  /**
   * 201 with the settled order, or with `Prefer: respond-async` 202 with the PENDING order,
   * settled once the response is sent. A repeated Idempotency-Key answers with the same order.
   */
  @Post()
  @HttpCode(201)
  @RequireApiKey('write')
  @ApiOperation({
    summary: 'Place an order',
    description:
      'Stores the order PENDING, reserves its stock through inventory and answers with the final state: CONFIRMED, or REJECTED with the reason.',
  })
  @ApiZodBody(CreateOrderBody, exampleOrderBody)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Same key and same body from the same client: the same order, never a second one (1-255 characters). Keys are per client.',
  })
  @ApiHeader({
    name: 'Prefer',
    required: false,
    description:
      '`respond-async`: answer 202 at once with the PENDING order, settled in the background; poll Location or follow GET /orders/{id}/events.',
  })
  @ApiZodResponse(201, OrderView, {
    description: 'The order in its final state (CONFIRMED or REJECTED)',
    example: exampleOrder,
    headers: {
      Location: 'The URL of the order',
      'Idempotent-Replayed': '"true" when an earlier request with this key created the order',
    },
  })
  @ApiZodResponse(202, OrderView, {
    description:
      'With Prefer: respond-async: the order as stored, PENDING; it settles in the background',
    example: { ...exampleOrder, status: 'PENDING' },
    headers: {
      Location: 'The URL of the order, to poll',
      'Preference-Applied': 'respond-async',
    },
  })
  @ApiErrorResponses(400, [422, 'ORDER.IDEMPOTENCY_KEY_REUSED: the key came with another body'])
  async create(
    @Body(new ZodValidationPipe(CreateOrderBody)) body: z.infer<typeof CreateOrderBody>,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('prefer') prefer: string | undefined,
    @Res({ passthrough: true }) res: Response,
    @CurrentClient() client: ApiClient,
  ): Promise<Order> {
    const input = { ...body, clientId: client.id };
    const key = idempotencyKeyPipe.transform({ 'Idempotency-Key': idempotencyKey })[
      'Idempotency-Key'
    ];
    let placed;
    if (prefersAsync(prefer)) {
      placed = await this.orders.accept(input, key);
      res.status(202).setHeader('Preference-Applied', 'respond-async');
      // Settled once the response is out (or the client gone), in this request's context:
      // its correlation id and trace go on with the RPC and the events.
      const order = placed.order;
      if (!placed.replayed)
        res.once(
          'close',
          AsyncResource.bind(() => this.orders.completeInBackground(order)),
        );
    } else {
      placed = await this.orders.place(input, key);
    }
    const { order, replayed } = placed;
    res.setHeader('Location', `/orders/${order.id}`);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    return order;
  }

  @Get()
  @RequireApiKey('read')
  @ApiOperation({
    summary: 'List orders, newest first',
    description: 'Cursor-paginated. The client’s own orders; an admin key lists every client’s.',
  })
  @ApiZodQuery(ListOrdersQuery)
  @ApiZodResponse(200, OrderPageView, {
    description: 'One page of orders',
    example: { items: [exampleOrder], nextCursor: 'c2VxOjQy' },
  })
  @ApiErrorResponses([400, 'A bad or unknown query parameter, or a cursor this API did not return'])
  list(
    @Query(new ZodValidationPipe(ListOrdersQuery)) query: z.infer<typeof ListOrdersQuery>,
    @CurrentClient() client: ApiClient,
  ): Promise<OrderPage> {
    return this.orders.list(query, ownerFor(client));
  }

  @Get(':id')
  @RequireApiKey('read')
  @ApiOperation({
    summary: 'Read an order',
    description: 'Another client’s order is 404, unless the key is an admin key.',
  })
  @OrderId
  @ApiZodResponse(200, OrderView, { description: 'The order', example: exampleOrder })
  @ApiErrorResponses([400, 'The id is not a UUID'], [404, 'ORDER.NOT_FOUND'])
  get(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentClient() client: ApiClient,
  ): Promise<Order> {
    return this.orders.get(id, ownerFor(client));
  }

  @Sse(':id/events')
  @RequireApiKey('read')
  @ApiOperation({
    summary: 'Follow an order’s status (server-sent events)',
    description:
      'One event per state, its `data` the order as JSON: first the order as it is now, then each change until it leaves PENDING (CONFIRMED or REJECTED), when the stream ends. Works on any replica: changes made elsewhere are read from the database within a second. A client holds at most SSE_MAX_STREAMS_PER_CLIENT streams at once (429 past it); a stream ends after SSE_MAX_LIFETIME_MS.',
  })
  @OrderId
  @ApiProduces('text/event-stream')
  @ApiResponse({
    status: 200,
    description:
      'The stream: `data: {"id":"…","status":"PENDING",…}` then `data: {…"status":"CONFIRMED"…}`',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiErrorResponses(
    [400, 'The id is not a UUID'],
    [404, 'ORDER.NOT_FOUND'],
    [429, 'ORDER.TOO_MANY_STREAMS'],
  )
  async events(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentClient() client: ApiClient,
  ): Promise<Observable<MessageEvent>> {
    const order = await this.orders.get(id, ownerFor(client)); // 404 before the stream starts
    return this.feed.follow(order, client.id).pipe(map((data) => ({ data })));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @RequireApiKey('write')
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
  cancel(
    @Param('id', new ParseUUIDPipe()) id: string,
    @CurrentClient() client: ApiClient,
  ): Promise<Order> {
    return this.orders.cancel(id, ownerFor(client));
  }
}
