import type { MessageHandler } from '@nestjs/microservices';
import type { ConsumeMessage } from 'amqplib';
import type { AmqpConnection } from '../connection/amqp-connection.js';
import { describeError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { MessagingObservers } from '../observability/observers.js';
import { FailureHandler } from '../retry/failure-handler.js';
import { declareServiceTopology, type ServiceTopology } from '../topology/declare.js';
import { EVENTS_EXCHANGE, eventsQueue } from '../topology/names.js';
import type { InboundScreen } from '../trust/inbound-screen.js';
import { decodeJson, type IncomingMeta, type Sender } from '../wire/properties.js';
import { AmqpContext } from './amqp.context.js';
import type { ConsumerChannel } from './consumer-channel.js';
import type { ConsumerChannels } from './consumer-channels.js';
import { deadLettered, type Ended, runDelivery } from './delivery.js';
import type { HandlerInvoker } from './handler-invoker.js';

const ACKED: Ended = { outcome: 'acked' };

/** What the event consumer and the RPC responder share, handed over by AmqpServer. */
export interface ConsumerParts {
  options: ResolvedMessagingOptions;
  sender: Sender;
  channels: ConsumerChannels;
  observers: MessagingObservers;
  screen: InboundScreen;
  invoker: HandlerInvoker;
  /** The handler registered for a message type (AmqpServer.getHandlerByPattern). */
  handlerFor: (type: string) => MessageHandler | null;
}

/**
 * Consumes `<service>.events` (bound to each `@EventPattern`): screens, validates and runs
 * the handler, acks on success, else hands the message to the retry tiers or the DLQ.
 */
export class EventConsumer {
  private readonly failures: FailureHandler;
  private readonly queue: string;

  constructor(
    private readonly parts: ConsumerParts,
    private readonly connection: AmqpConnection,
  ) {
    this.queue = eventsQueue(parts.options.service);
    this.failures = new FailureHandler(parts.sender, this.queue, parts.options.retry);
  }

  start(topology: ServiceTopology): Promise<void> {
    const { options, channels, observers } = this.parts;
    return channels.consume({
      name: `${options.service}-events`,
      queue: this.queue,
      prefetch: options.prefetch,
      declare: async (ch) => {
        // Bindings need the shared exchange; the broker's definitions normally hold it.
        await this.connection.ensureExchange(EVENTS_EXCHANGE, 'topic');
        await declareServiceTopology(ch, topology);
      },
      onMessage: (ch, msg) => runDelivery(observers, 'event', this.queue, ch, msg, this.process),
    });
  }

  /** Validates and runs the handler; acks on success, else moves the message on. */
  private readonly process = async (
    ch: ConsumerChannel,
    msg: ConsumeMessage,
    meta: IncomingMeta,
  ): Promise<Ended> => {
    const { screen, invoker } = this.parts;
    const handler = meta.type ? this.parts.handlerFor(meta.type) : null;
    if (!handler?.isEventHandler) {
      return deadLettered(
        this.failures,
        ch,
        msg,
        meta,
        'unknown-type',
        `no handler for "${meta.type}"`,
      );
    }
    const refused = screen.size(msg) ?? screen.event(msg, meta);
    if (refused) return deadLettered(this.failures, ch, msg, meta, refused.reason, refused.error);
    const decoded = decodeJson(msg.content);
    if (!decoded.ok) return deadLettered(this.failures, ch, msg, meta, 'malformed', decoded.error);
    let payload: unknown;
    try {
      payload = invoker.validate(handler, meta.type!, decoded.value, meta.version);
    } catch (error) {
      return deadLettered(this.failures, ch, msg, meta, 'invalid', error);
    }
    const retry = invoker.retryFor(handler);
    try {
      await invoker.invokeWithImmediateRetries(
        handler,
        payload,
        new AmqpContext([msg, ch.channel, meta]),
        retry,
      );
    } catch (error) {
      const outcome = await this.failures.handlerFailed(ch, msg, meta, error, retry);
      return { outcome, detail: describeError(error) };
    }
    ch.ack(msg);
    return ACKED;
  };
}
