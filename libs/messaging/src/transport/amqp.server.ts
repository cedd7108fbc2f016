import { Logger } from '@nestjs/common';
import {
  type CustomTransportStrategy,
  type MessageHandler,
  type MsPattern,
  Server,
} from '@nestjs/microservices';
import { finalize, isObservable, lastValueFrom } from 'rxjs';
import type { AmqpConnection } from '../connection/amqp-connection.js';
import type { TransportEventsMap, TransportStatus } from '../connection/transport-events.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { MessagingObservers } from '../observability/observers.js';
import { serviceQueues, type ServiceTopology } from '../topology/declare.js';
import { InboundScreen } from '../trust/inbound-screen.js';
import { senderOf } from '../wire/properties.js';
import type { AmqpContext } from './amqp.context.js';
import { ConsumerChannels } from './consumer-channels.js';
import { type ConsumerParts, EventConsumer } from './event-consumer.js';
import { HandlerInvoker } from './handler-invoker.js';
import { RpcResponder } from './rpc-responder.js';

export const AMQP_TRANSPORT = Symbol('AMQP');

/** Two handlers for one pattern: Nest would chain the events and keep the last RPC. */
export class DuplicateHandlerError extends Error {
  constructor(pattern: string, service: string) {
    super(
      `${service} has two handlers for "${pattern}": a message pattern takes one handler ` +
        '(@HandleEvent / @HandleRpc / @EventPattern / @MessagePattern). Merge them into one, ' +
        'or let another service consume the event.',
    );
    this.name = 'DuplicateHandlerError';
  }
}

/**
 * The Nest transport strategy (`app.connectMicroservice({ strategy })`): an EventConsumer on
 * `<service>.events` and an RpcResponder on `<service>.rpc`, on channels a ConsumerChannels
 * owns, with manual acks and bounded prefetch. Handlers run through Nest's processing hooks;
 * `status` and `on()` report the shared connection, as Nest's RMQ transport does.
 */
export class AmqpServer
  extends Server<TransportEventsMap, TransportStatus>
  implements CustomTransportStrategy
{
  override readonly transportId = AMQP_TRANSPORT;
  /** Event handler failures are ours to handle (retry tiers, DLQ): Nest need not log them. */
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(AmqpServer.name);
  private readonly channels: ConsumerChannels;
  private readonly invoker: HandlerInvoker;
  private topology: ServiceTopology | undefined;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: ResolvedMessagingOptions,
    private readonly observers: MessagingObservers = new MessagingObservers(),
  ) {
    super();
    this.channels = new ConsumerChannels(connection, this.logger);
    this.invoker = new HandlerInvoker(options.retry, this.runHandler);
    connection.status.subscribe((status) => this._status$.next(status));
  }

  /** Refuses a second handler for a pattern at start-up instead of picking one silently. */
  override addHandler(
    pattern: MsPattern,
    callback: MessageHandler,
    isEventHandler = false,
    extras: Record<string, unknown> = {},
  ): void {
    const route = this.normalizePattern(pattern);
    if (this.messageHandlers.has(route)) {
      throw new DuplicateHandlerError(route, this.options.service);
    }
    super.addHandler(pattern, callback, isEventHandler, extras);
  }

  /**
   * Message types are contract names, never JSON-encoded object patterns: the base class's
   * `JSON.parse` attempt (which throws for every plain name) is skipped.
   */
  override getHandlerByPattern(pattern: string): MessageHandler | null {
    return this.messageHandlers.get(pattern) ?? null;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** The queues this service declared and consumes (with its delay queues and DLQ). */
  ownQueues(): string[] {
    return this.topology ? serviceQueues(this.topology) : [];
  }

  private async start(): Promise<void> {
    const rpcPatterns = this.patterns(false);
    const eventPatterns = this.patterns(true);
    const topology: ServiceTopology = {
      service: this.options.service,
      queueType: this.options.queueType,
      rpc: rpcPatterns.length > 0,
      eventBindings: eventPatterns,
      retryDelaysMs: this.invoker.retryDelays(
        [...this.messageHandlers.values()].filter((h) => h.isEventHandler),
      ),
      deadLetterQueueMaxLength: this.options.deadLetterQueueMaxLength,
    };
    this.topology = topology;
    const parts: ConsumerParts = {
      options: this.options,
      sender: senderOf(this.options),
      channels: this.channels,
      observers: this.observers,
      screen: new InboundScreen(this.options, this.messageHandlers),
      invoker: this.invoker,
      handlerFor: (type) => this.getHandlerByPattern(type),
    };
    await this.connection.waitForConnect(this.options.connectTimeoutMs);
    await Promise.all([
      topology.rpc ? new RpcResponder(parts).start(topology) : undefined,
      eventPatterns.length > 0
        ? new EventConsumer(parts, this.connection).start(topology)
        : undefined,
    ]);
    this.logger.log(
      `Consuming as "${this.options.service}": ${rpcPatterns.length} RPC handler(s), events [${eventPatterns.join(', ')}]`,
    );
  }

  private patterns(events: boolean): string[] {
    return [...this.messageHandlers.entries()]
      .filter(([, handler]) => handler.isEventHandler === events)
      .map(([pattern]) => pattern);
  }

  /**
   * One handler call as Nest's transports make it (`Server#handleEvent`, `#handleRequest`):
   * between the processing hooks, which instrumentation uses to open and close its span,
   * the end hook running when a returned stream settles. Unlike Nest's fire-and-forget
   * `handleEvent` it resolves with the stream's last value (the RPC reply) and rejects with
   * the handler's error, since acks, retries and error replies depend on the outcome; a plain
   * value is taken as is rather than wrapped by `transformToObservable` (the same last value,
   * without an Observable per message).
   */
  private readonly runHandler = (
    handler: MessageHandler,
    payload: unknown,
    ctx: AmqpContext,
  ): Promise<unknown> =>
    new Promise((resolve, reject) => {
      this.runWithProcessingHooks(ctx, async (runEndHook) => {
        try {
          const result: unknown = await handler(payload, ctx);
          if (!isObservable(result)) {
            runEndHook();
            resolve(result);
            return;
          }
          const stream = this.transformToObservable(result).pipe(finalize(runEndHook));
          resolve(await lastValueFrom(stream, { defaultValue: undefined }));
        } catch (error) {
          runEndHook();
          reject(error);
        }
      });
    });

  /** Listens for the shared connection's `error`, `connect`, `disconnect`, `blocked`, `unblocked`. */
  on<E extends keyof TransportEventsMap>(event: E, callback: TransportEventsMap[E]): void {
    this.connection.on(event, callback);
  }

  /** Stop taking work, let in-flight handlers finish (bounded), then close the channels. */
  async close(): Promise<void> {
    await this.channels.close(this.options.shutdownTimeoutMs);
  }

  unwrap<T>(): T {
    return this.connection as T;
  }
}
