import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import type { EventContract, PayloadOf, RequestOf, ResponseOf, RpcContract } from '@app/contracts';
import type { AmqpConnection } from '../connection/amqp-connection.js';
import { Defaults } from '../constants.js';
import { MessageContext } from '../context/message-context.js';
import { RpcError, RpcTimeoutError, RpcUnavailableError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { CircuitBreaker, type CircuitState } from '../rpc/circuit-breaker.js';
import { RpcCaller } from '../rpc/rpc-caller.js';
import { MessagingObservers } from '../observability/observers.js';
import { EVENTS_EXCHANGE, rpcQueue, serviceOfRpc } from '../topology/names.js';
import { ConfirmedPublisher } from '../wire/confirmed-publisher.js';
import {
  encodeJson,
  type OutgoingMeta,
  publishProperties,
  type Sender,
  senderOf,
} from '../wire/properties.js';

export interface CallOptions {
  timeoutMs?: number;
}

export interface EventMessage extends OutgoingMeta {
  /** Defaults to the message type: events are routed by name. */
  routingKey?: string;
}

const PERSISTENT = { persistent: true } as const;

/**
 * The Nest `ClientProxy` for this transport: `send()` is an RPC over direct reply-to with a
 * timeout that is also the request's `expiration`; `emit()` publishes a persistent event and
 * completes when the broker confirms it. `request()` / `publishEvent()` are the typed,
 * promise-based forms the apps use.
 */
export class AmqpClient extends ClientProxy {
  private readonly logger = new Logger(AmqpClient.name);
  private readonly breakers = new Map<string, CircuitBreaker>();
  private publisher = new ConfirmedPublisher(Defaults.publishTimeoutMs);
  private readonly sender: Sender;
  private rpc?: RpcCaller;
  private eventChannel?: ChannelWrapper;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: ResolvedMessagingOptions,
    private readonly observers: MessagingObservers = new MessagingObservers(),
  ) {
    super();
    this.sender = senderOf(options);
  }

  /** Channels open lazily, on the first call or publish; calls made meanwhile wait for them. */
  async connect(): Promise<void> {
    this.rpcCaller();
    this.eventPublisher();
  }

  async request<C extends RpcContract>(
    contract: C,
    payload: RequestOf<C>,
    options: CallOptions = {},
  ): Promise<ResponseOf<C>> {
    const data = await this.call(contract.name, contract.version, payload, options);
    const parsed = contract.response.safeParse(data);
    if (!parsed.success) {
      throw new RpcError(
        'INVALID_REPLY',
        `${contract.name} replied with an invalid body: ${parsed.error.message}`,
      );
    }
    return parsed.data as ResponseOf<C>;
  }

  /** Publishes an event and resolves when the broker has confirmed it. */
  publishEvent<C extends EventContract>(contract: C, payload: PayloadOf<C>): Promise<void> {
    return this.publishRaw(
      { type: contract.name, version: contract.version },
      contract.payload.parse(payload),
    );
  }

  /** Lower level: used by the outbox relay, which stores messages already validated. */
  publishRaw(message: EventMessage, payload: unknown): Promise<void> {
    const routingKey = message.routingKey ?? message.type;
    const info = {
      kind: 'event',
      type: message.type,
      exchange: EVENTS_EXCHANGE,
      routingKey,
    } as const;
    // Headers given (the outbox stored them at commit time) are kept; else observers add theirs now.
    const headers = message.headers ?? this.eventHeaders(message.type);
    const properties = publishProperties(
      {
        ...message,
        headers,
        correlationId: message.correlationId ?? MessageContext.correlationId(),
      },
      this.sender,
      PERSISTENT,
    );
    const confirmed = this.eventPublisher().publish(
      EVENTS_EXCHANGE,
      routingKey,
      encodeJson(payload),
      properties,
    );
    if (!this.observers.active) return confirmed;
    return confirmed.then(
      () => this.observers.published(info, true),
      (error: unknown) => {
        this.observers.published(info, false);
        throw error;
      },
    );
  }

  /** What observers add to an event published now (e.g. the current trace context), if anything. */
  eventHeaders(type: string): Record<string, unknown> | undefined {
    if (!this.observers.active) return undefined;
    return this.observers.headers(
      { kind: 'event', type, exchange: EVENTS_EXCHANGE, routingKey: type },
      undefined,
    );
  }

  /** State of the circuit of every service this client has called. */
  circuits(): Record<string, CircuitState> {
    return Object.fromEntries([...this.breakers].map(([service, b]) => [service, b.state]));
  }

  /** Core of `send()` and `request()`: resolves with the reply's `data`. */
  async call(
    pattern: string,
    version: number,
    payload: unknown,
    options: CallOptions = {},
  ): Promise<unknown> {
    const service = serviceOfRpc(pattern);
    const breaker = this.breakerFor(service);
    const started = performance.now();
    try {
      breaker?.admit();
    } catch (error) {
      this.observers.rpcCompleted(pattern, 0, 'circuit-open');
      throw error;
    }
    const timeoutMs = options.timeoutMs ?? this.options.rpcTimeoutMs;
    const extraHeaders = this.observers.active
      ? this.observers.headers(
          { kind: 'rpc-request', type: pattern, exchange: '', routingKey: rpcQueue(service) },
          undefined,
        )
      : undefined;
    try {
      const data = await this.rpcCaller().call(
        pattern,
        version,
        payload,
        timeoutMs,
        MessageContext.correlationId(),
        extraHeaders,
      );
      breaker?.succeeded();
      this.observers.rpcCompleted(pattern, performance.now() - started, 'ok');
      return data;
    } catch (error) {
      // An error reply proves the service is alive; only silence and refusal count.
      const silent = error instanceof RpcTimeoutError || error instanceof RpcUnavailableError;
      if (silent) breaker?.failed();
      else breaker?.succeeded();
      const outcome =
        error instanceof RpcTimeoutError ? 'timeout' : silent ? 'unavailable' : 'error';
      this.observers.rpcCompleted(pattern, performance.now() - started, outcome);
      throw error;
    }
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    let cancelled = false;
    this.call(this.normalizePattern(packet.pattern), 1, packet.data).then(
      (response) => !cancelled && callback({ response, isDisposed: true }),
      (err: unknown) => !cancelled && callback({ err, isDisposed: true }),
    );
    return () => {
      cancelled = true;
    };
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    await this.publishRaw({ type: this.normalizePattern(packet.pattern), version: 1 }, packet.data);
    return undefined as T;
  }

  async close(): Promise<void> {
    this.publisher.close();
    this.publisher = new ConfirmedPublisher(Defaults.publishTimeoutMs);
    await Promise.all([this.rpc?.close(), this.eventChannel?.close()]);
    this.rpc = this.eventChannel = undefined;
  }

  unwrap<T>(): T {
    return this.connection as T;
  }

  private breakerFor(service: string): CircuitBreaker | undefined {
    const options = this.options.circuitBreaker;
    if (!options) return undefined;
    let breaker = this.breakers.get(service);
    if (!breaker) this.breakers.set(service, (breaker = new CircuitBreaker(service, options)));
    return breaker;
  }

  private rpcCaller(): RpcCaller {
    return (this.rpc ??= new RpcCaller(this.connection, this.sender));
  }

  private eventPublisher(): ConfirmedPublisher {
    this.eventChannel ??= this.openEventChannel();
    return this.publisher;
  }

  private openEventChannel(): ChannelWrapper {
    const channel = this.connection.createChannel({
      name: `${this.options.service}-publisher`,
      confirm: true,
      setup: async (ch: ConfirmChannel) => {
        await this.connection.ensureExchange(EVENTS_EXCHANGE, 'topic');
        this.publisher.attach(ch);
      },
    });
    channel.on('error', (err: Error) => this.logger.error(`Publisher channel: ${err.message}`));
    return channel;
  }
}
