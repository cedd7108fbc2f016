import { AmqpClient, MessageContext } from '@app/messaging';
import type { OutboxPublisher, StoredEvent } from '@app/outbox';

/** The outbox's port, on this system's transport: events go out through `AmqpClient`. */
export function amqpOutboxPublisher(client: AmqpClient): OutboxPublisher {
  return {
    contextOf: (eventType) => ({
      correlationId: MessageContext.correlationId(),
      headers: client.eventHeaders(eventType),
    }),
    publish: (event: StoredEvent) => client.publishRaw(event, event.payload),
  };
}
