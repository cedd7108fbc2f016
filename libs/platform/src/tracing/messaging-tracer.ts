import type {
  ConsumeInfo,
  ConsumeOutcome,
  ConsumeScope,
  MessagingObserver,
  PublishInfo,
} from '@app/messaging';
import { type Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Tracing } from './tracing.js';

/**
 * Messaging attribute names of the OpenTelemetry semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/messaging/rabbitmq/). Still "development"
 * there, so copied here as the conventions advise rather than imported from `incubating`.
 */
export const MessagingAttributes = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  // Ours: no convention names these yet.
  messageType: 'messaging.message.type',
  outcome: 'messaging.consume.outcome',
} as const;

const FAILED: ReadonlySet<ConsumeOutcome> = new Set(['retried', 'dead-lettered', 'abandoned']);

/**
 * Carries the trace over RabbitMQ. Outgoing events and RPC requests get the caller's
 * `traceparent`/`tracestate` (events through the outbox get the context of the transaction
 * that stored them); every consumed delivery runs in a CONSUMER span whose parent is the
 * context its headers carry, so an RPC handler is a child of its caller and an event
 * consumer of whatever published the event.
 */
export class MessagingTracer implements MessagingObserver {
  constructor(private readonly tracing: Tracing) {}

  outgoingHeaders(info: PublishInfo): Record<string, string> | undefined {
    // A reply goes back to the caller, whose span is already open: nothing to continue.
    return info.kind === 'rpc-reply' ? undefined : this.tracing.inject();
  }

  consuming(info: ConsumeInfo): ConsumeScope {
    const parent = this.tracing.extract(info.headers);
    const attributes: Attributes = {
      [MessagingAttributes.system]: 'rabbitmq',
      [MessagingAttributes.destination]: info.queue,
      [MessagingAttributes.operationType]: 'process',
      [MessagingAttributes.operationName]: 'process',
    };
    if (info.type) attributes[MessagingAttributes.messageType] = info.type;
    if (info.messageId) attributes[MessagingAttributes.messageId] = info.messageId;
    if (info.correlationId) attributes[MessagingAttributes.conversationId] = info.correlationId;
    const span = this.tracing.tracer.startSpan(
      `process ${info.type ?? info.queue}`,
      { kind: SpanKind.CONSUMER, attributes },
      parent,
    );
    const active = trace.setSpan(parent, span);
    return {
      run: (work) => this.tracing.with(active, work),
      end: (outcome, detail) => {
        span.setAttribute(MessagingAttributes.outcome, outcome);
        // An RPC answered with an error reply ends `replied` with the error code as detail.
        if (FAILED.has(outcome) || (outcome === 'replied' && detail)) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: detail ?? outcome });
        }
        span.end();
      },
    };
  }
}
