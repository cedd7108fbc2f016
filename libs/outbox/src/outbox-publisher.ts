/** An event as the outbox stored it: everything the relay needs to publish it as it was. */
export interface StoredEvent {
  messageId: string;
  type: string;
  version: number;
  routingKey: string;
  payload: unknown;
  correlationId?: string;
  headers?: Record<string, unknown>;
}

/**
 * The outbox's port to the broker, which the service's wiring implements with its
 * transport (libs/platform does it with libs/messaging's `AmqpClient`). The outbox knows
 * no AMQP: only that events are published, confirmed, and carry the context of the change.
 */
export interface OutboxPublisher {
  /** The correlation id and headers (say, the trace) of the work in progress, stored with an event. */
  contextOf(eventType: string): { correlationId?: string; headers?: Record<string, unknown> };
  /** Publishes a stored event; resolves once the broker has confirmed it. */
  publish(event: StoredEvent): Promise<void>;
}

/** Nest token of the `OutboxPublisher`. */
export const OUTBOX_PUBLISHER = Symbol('OUTBOX_PUBLISHER');
