import { DEATH_REASONS, HeaderNames } from '@app/messaging';

const string = (description: string) => ({ type: 'string', description });
const uuid = (description: string) => ({ type: 'string', format: 'uuid', description });

const version = {
  [HeaderNames.version]: {
    type: 'integer',
    minimum: 1,
    description: 'Version of the body schema (the contract version).',
  },
};
const traceparent = {
  traceparent: string('W3C trace context, when tracing is on (OTEL_TRACES_EXPORTER).'),
  tracestate: string('W3C trace context vendor state, when tracing is on and the trace has some.'),
};

/** AMQP properties every message carries (docs/messaging.md, "Properties of every message"). */
const common = {
  content_type: { const: 'application/json' },
  message_id: uuid('Unique per message; consumers deduplicate by it.'),
  type: string('The message name: the contract name, e.g. order.confirmed.'),
  timestamp: { type: 'integer', description: 'Seconds since the epoch.' },
  app_id: string('The publishing service.'),
};

/** Schemas the generated messages refer to; hand-written, they describe the transport. */
export const components = {
  schemas: {
    EventHeaders: {
      type: 'object',
      required: [HeaderNames.version],
      properties: { ...version, ...traceparent },
    },
    RpcRequestHeaders: {
      type: 'object',
      required: [HeaderNames.version],
      properties: {
        ...version,
        [HeaderNames.requestId]: string(
          'The id of the request the call belongs to (what correlation_id is on events).',
        ),
        ...traceparent,
      },
    },
    EventProperties: {
      type: 'object',
      required: ['content_type', 'message_id', 'type', 'timestamp', 'delivery_mode'],
      properties: {
        ...common,
        correlation_id: string('The id of the request that caused the event (X-Request-Id).'),
        delivery_mode: { const: 2, description: 'Persistent.' },
      },
    },
    RpcRequestProperties: {
      type: 'object',
      required: ['content_type', 'message_id', 'type', 'correlation_id', 'reply_to', 'expiration'],
      properties: {
        ...common,
        correlation_id: string('Unique per call; the reply echoes it.'),
        reply_to: string('amq.rabbitmq.reply-to (direct reply-to) or a queue of the caller.'),
        expiration: string(
          "The caller's timeout in milliseconds: a request unread by then is dropped, never run late.",
        ),
        delivery_mode: { const: 1, description: 'Transient.' },
      },
    },
    RpcReplyProperties: {
      type: 'object',
      description:
        'A lighter set than requests and events: no message_id, timestamp or app_id (nobody deduplicates, orders or routes a reply).',
      required: ['content_type', 'correlation_id', 'type'],
      properties: {
        content_type: { const: 'application/json' },
        correlation_id: string("The request's correlation_id."),
        type: string('The RPC name followed by .reply, e.g. inventory.reserve.reply.'),
        user_id: string('The broker user of the answering service (RabbitMQ checks it).'),
        delivery_mode: { const: 1, description: 'Transient.' },
      },
    },
    RpcErrorReply: {
      type: 'object',
      required: ['ok', 'error'],
      properties: {
        ok: { const: false },
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: string(
              'BAD_REQUEST (not JSON), UNKNOWN_MESSAGE, VALIDATION_FAILED, INTERNAL or a domain code.',
            ),
            message: { type: 'string' },
            details: {
              description: 'VALIDATION_FAILED: { issues: [{ path, message }] }.',
            },
          },
        },
      },
    },
    DeadLetterHeaders: {
      type: 'object',
      description: 'Added to a message retried or dead-lettered by a consumer.',
      properties: {
        [HeaderNames.attempts]: { type: 'integer', description: 'Deliveries that failed so far.' },
        [HeaderNames.deathReason]: {
          enum: [...DEATH_REASONS],
          description: 'Dead letters only: why the consumer gave up (docs/messaging.md).',
        },
        [HeaderNames.errorMessage]: string('The last error, at most 1000 characters.'),
        [HeaderNames.originalQueue]: { type: 'string' },
        [HeaderNames.originalExchange]: { type: 'string' },
        [HeaderNames.originalRoutingKey]: { type: 'string' },
        [HeaderNames.failedAt]: { type: 'string', format: 'date-time' },
        [HeaderNames.service]: string('The service that gave up.'),
      },
    },
  },
  correlationIds: {
    request: {
      description: 'AMQP property correlation_id: the originating request id, on every hop.',
      location: '$message.header#/correlation_id',
    },
    rpcCall: {
      description: 'AMQP property correlation_id: the call id, echoed by the reply.',
      location: '$message.header#/correlation_id',
    },
  },
};
