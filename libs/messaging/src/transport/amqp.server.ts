import { Logger } from '@nestjs/common';
import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { type AmqpConnection } from '../connection/amqp-connection.js';
import { MessageContext } from '../context/message-context.js';
import { describeError, PermanentError, toRpcErrorBody } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { type DeathReason, FailureHandler } from '../retry/failure-handler.js';
import {
  declareServiceTopology,
  serviceQueues,
  type ServiceTopology,
} from '../topology/declare.js';
import { EVENTS_EXCHANGE, eventsQueue, rpcQueue } from '../topology/names.js';
import { InboundScreen } from '../trust/inbound-screen.js';
import {
  decodeJson,
  encodeJson,
  type IncomingMeta,
  replyProperties,
  readMeta,
  type Sender,
  senderOf,
} from '../wire/properties.js';
import type { RpcReply } from '../wire/rpc-reply.js';
import { AmqpContext } from './amqp.context.js';
import { type ConsumeOutcome, MessagingObservers } from '../observability/observers.js';
import { consumeContext, HandlerInvoker } from './handler-invoker.js';
import { ConsumerChannel } from './consumer-channel.js';
import { InFlight } from './in-flight.js';

export const AMQP_TRANSPORT = Symbol('AMQP');

/** How a delivery ended, told to the observers; `detail` says why when it failed. */
interface Ended {
  outcome: ConsumeOutcome;
  detail?: string;
}

const ACKED: Ended = { outcome: 'acked' };
const REPLIED: Ended = { outcome: 'replied' };

interface ActiveConsumer {
  consumer: ConsumerChannel;
  consumerTag: string;
}

/**
 * The Nest transport strategy: consumes `<service>.rpc` for `@MessagePattern` handlers and
 * `<service>.events` (bound to each `@EventPattern`) with manual acks and bounded prefetch.
 * Validation, acks, retries and dead-lettering live here so handlers stay a line or two.
 */
export class AmqpServer extends Server implements CustomTransportStrategy {
  override readonly transportId = AMQP_TRANSPORT;
  protected override readonly logger = new Logger(AmqpServer.name);
  private readonly wrappers: ChannelWrapper[] = [];
  private readonly consumers = new Map<string, ActiveConsumer>();
  private readonly inFlight = new InFlight();
  private readonly failures: FailureHandler;
  private readonly rpcFailures: FailureHandler;
  private readonly invoker: HandlerInvoker;
  private readonly sender: Sender;
  private screen!: InboundScreen;
  private replyChannel: Channel | undefined;
  private closing = false;
  private topology: ServiceTopology | undefined;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: ResolvedMessagingOptions,
    private readonly observers: MessagingObservers = new MessagingObservers(),
  ) {
    super();
    const { service, retry } = options;
    this.sender = senderOf(options);
    this.failures = new FailureHandler(this.sender, eventsQueue(service), retry);
    this.rpcFailures = new FailureHandler(this.sender, rpcQueue(service), retry);
    this.invoker = new HandlerInvoker(retry);
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
    this.screen = new InboundScreen(this.options, this.messageHandlers);
    await this.connection.waitForConnect(this.options.connectTimeoutMs);
    const ready: Promise<void>[] = [];
    if (topology.rpc) {
      ready.push(this.openReplyChannel());
      const queue = rpcQueue(this.options.service);
      const process = this.processRequest.bind(this);
      ready.push(
        this.consume(
          `${this.options.service}-rpc`,
          queue,
          this.options.rpcPrefetch,
          (ch) => declareServiceTopology(ch, topology),
          (ch, msg) => this.consumeOne('rpc', queue, ch, msg, process),
        ),
      );
    }
    if (eventPatterns.length > 0) {
      const queue = eventsQueue(this.options.service);
      const process = this.processEvent.bind(this);
      ready.push(
        this.consume(
          `${this.options.service}-events`,
          queue,
          this.options.prefetch,
          async (ch) => {
            // Bindings need the shared exchange; the broker's definitions normally hold it.
            await this.connection.ensureExchange(EVENTS_EXCHANGE, 'topic');
            await declareServiceTopology(ch, topology);
          },
          (ch, msg) => this.consumeOne('event', queue, ch, msg, process),
        ),
      );
    }
    await Promise.all(ready);
    this.logger.log(
      `Consuming as "${this.options.service}": ${rpcPatterns.length} RPC handler(s), events [${eventPatterns.join(', ')}]`,
    );
  }

  private patterns(events: boolean): string[] {
    return [...this.messageHandlers.entries()]
      .filter(([, handler]) => handler.isEventHandler === events)
      .map(([pattern]) => pattern);
  }

  private async openReplyChannel(): Promise<void> {
    const wrapper = this.connection.createChannel({
      name: `${this.options.service}-rpc-replies`,
      confirm: false,
      setup: async (ch: Channel) => {
        ch.once('close', () => {
          if (this.replyChannel === ch) this.replyChannel = undefined;
        });
        this.replyChannel = ch;
      },
    });
    wrapper.on('error', (err: Error) => this.logger.error(`Reply channel: ${err.message}`));
    this.wrappers.push(wrapper);
    await wrapper.waitForConnect();
  }

  /** One channel per consumer, so RPC and events have their own prefetch and flow. */
  private async consume(
    name: string,
    queue: string,
    prefetch: number,
    declare: (ch: ConfirmChannel) => Promise<void>,
    onMessage: (ch: ConsumerChannel, msg: ConsumeMessage) => Promise<void>,
  ): Promise<void> {
    const wrapper = this.connection.createChannel({
      name,
      confirm: true,
      // Runs on every (re)connect: re-declares topology and resumes the consumer.
      setup: async (ch: ConfirmChannel) => {
        if (this.closing) return;
        await declare(ch);
        await ch.prefetch(prefetch);
        const consumer = new ConsumerChannel(ch);
        const { consumerTag } = await ch.consume(queue, (msg) => {
          if (msg === null) {
            this.logger.error(`Consumer of ${queue} was cancelled by the broker`);
            return;
          }
          consumer.delivered(msg);
          this.inFlight.track(
            onMessage(consumer, msg).catch((err) =>
              this.logger.error(`Unexpected failure consuming ${queue}: ${describeError(err)}`),
            ),
          );
        });
        this.consumers.set(name, { consumer, consumerTag });
      },
    });
    wrapper.on('error', (err: Error) => this.logger.error(`Channel ${name}: ${err.message}`));
    this.wrappers.push(wrapper);
    await wrapper.waitForConnect();
  }

  /**
   * One delivery, observed and in the message's context (so whatever it logs, retry and
   * dead-letter lines included, carries its correlation id), processed by `process`.
   */
  private async consumeOne(
    kind: 'event' | 'rpc',
    queue: string,
    ch: ConsumerChannel,
    msg: ConsumeMessage,
    process: (ch: ConsumerChannel, msg: ConsumeMessage, meta: IncomingMeta) => Promise<Ended>,
  ): Promise<void> {
    const meta = readMeta(msg);
    const scope = this.observers.consuming({
      kind,
      type: meta.type,
      queue,
      messageId: meta.messageId,
      correlationId: meta.requestId,
      headers: meta.headers,
    });
    const { outcome, detail } = await MessageContext.run(consumeContext(meta), () =>
      scope.run(() => process(ch, msg, meta)),
    );
    scope.end(outcome, detail);
  }

  /** Validates and runs the handler; acks on success, else moves the message on. */
  private async processEvent(
    ch: ConsumerChannel,
    msg: ConsumeMessage,
    meta: IncomingMeta,
  ): Promise<Ended> {
    const handler = meta.type ? this.messageHandlers.get(meta.type) : undefined;
    if (!handler?.isEventHandler) {
      return this.deadLetter(ch, msg, meta, 'unknown-type', `no handler for "${meta.type}"`);
    }
    const refused = this.screen.size(msg) ?? this.screen.event(msg, meta);
    if (refused) return this.deadLetter(ch, msg, meta, refused.reason, refused.error);
    const decoded = decodeJson(msg.content);
    if (!decoded.ok) return this.deadLetter(ch, msg, meta, 'malformed', decoded.error);
    let payload: unknown;
    try {
      payload = this.invoker.validate(handler, meta.type!, decoded.value, meta.version);
    } catch (error) {
      return this.deadLetter(ch, msg, meta, 'invalid', error);
    }
    const retry = this.invoker.retryFor(handler);
    try {
      await this.invoker.invokeWithImmediateRetries(
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
  }

  private async deadLetter(
    ch: ConsumerChannel,
    msg: ConsumeMessage,
    meta: IncomingMeta,
    reason: DeathReason,
    error: unknown,
    failures = this.failures,
  ): Promise<Ended> {
    const outcome = await failures.deadLetter(ch, msg, meta, reason, error);
    return { outcome, detail: `${reason}: ${describeError(error)}` };
  }

  /** Answers (always: an error reply at worst), then acks; RPCs are never retried here. */
  private async processRequest(
    ch: ConsumerChannel,
    msg: ConsumeMessage,
    meta: IncomingMeta,
  ): Promise<Ended> {
    if (!meta.replyTo) {
      const error = 'RPC request without reply_to';
      return this.deadLetter(ch, msg, meta, 'no-reply-to', error, this.rpcFailures);
    }
    // A request from a caller its contract does not name gets no answer, only the DLQ.
    const known = meta.type !== undefined && this.messageHandlers.has(meta.type);
    const refused = this.screen.size(msg) ?? (known ? this.screen.request(msg, meta) : undefined);
    if (refused) {
      return this.deadLetter(ch, msg, meta, refused.reason, refused.error, this.rpcFailures);
    }
    const reply = await this.answer(ch, msg, meta);
    const type = `${meta.type ?? 'unknown'}.reply`;
    const info = { kind: 'rpc-reply', type, exchange: '', routingKey: meta.replyTo } as const;
    const headers = this.observers.active ? this.observers.headers(info, undefined) : undefined;
    const properties = replyProperties(
      { type, version: meta.version ?? 1, correlationId: meta.correlationId, headers },
      this.sender,
    );
    try {
      // Replies go out on a channel without confirms (the caller's timeout covers a lost one);
      // the consuming channel stays in confirm mode for the rare dead-letter move.
      (this.replyChannel ?? ch.channel).publish('', meta.replyTo, encodeJson(reply), properties);
      this.observers.published(info, true);
    } catch (error) {
      this.observers.published(info, false);
      this.logger.error(
        `Could not reply to ${meta.type} ${meta.correlationId}: ${describeError(error)}`,
      );
    }
    // The caller owns the timeout and decides what to do about a failure.
    ch.ack(msg);
    return reply.ok ? REPLIED : { outcome: 'replied', detail: reply.error.code };
  }

  private async answer(
    ch: ConsumerChannel,
    msg: ConsumeMessage,
    meta: IncomingMeta,
  ): Promise<RpcReply> {
    const decoded = decodeJson(msg.content);
    if (!decoded.ok) return fail('BAD_REQUEST', decoded.error);
    const handler = meta.type ? this.messageHandlers.get(meta.type) : undefined;
    if (!handler || handler.isEventHandler) {
      return fail(
        'UNKNOWN_MESSAGE',
        `${this.options.service} has no RPC handler for "${meta.type}"`,
      );
    }
    try {
      const payload = this.invoker.validate(handler, meta.type!, decoded.value, meta.version);
      const data = await this.invoker.invoke(
        handler,
        payload,
        new AmqpContext([msg, ch.channel, meta]),
      );
      return { ok: true, data: data ?? null };
    } catch (error) {
      if (!(error instanceof PermanentError)) {
        this.logger.error(`${meta.type} ${meta.correlationId} failed: ${describeError(error)}`);
      }
      return { ok: false, error: toRpcErrorBody(error) };
    }
  }

  /** Stop taking work, let in-flight handlers finish (bounded), then close the channels. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      [...this.consumers.values()].map(({ consumer, consumerTag }) =>
        consumer.channel.cancel(consumerTag).catch(() => undefined),
      ),
    );
    const drained = await this.inFlight.drain(this.options.shutdownTimeoutMs);
    if (!drained) {
      this.logger.warn(
        `${this.inFlight.size} handler(s) still running after ${this.options.shutdownTimeoutMs} ms; their messages will be redelivered`,
      );
    }
    for (const { consumer } of this.consumers.values()) consumer.flush();
    await Promise.all(this.wrappers.map((w) => w.close().catch(() => undefined)));
  }

  on(): never {
    throw new Error('AmqpServer does not emit events; use AmqpConnection for broker status');
  }

  unwrap<T>(): T {
    return this.connection as T;
  }
}

function fail(code: string, message: string): RpcReply {
  return { ok: false, error: { code, message } };
}
