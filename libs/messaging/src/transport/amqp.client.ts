import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import type { EventContract, PayloadOf, RequestOf, ResponseOf, RpcContract } from '@app/contracts';
import type { AmqpConnection } from '../connection/amqp-connection.js';
import { DIRECT_REPLY_TO, Headers } from '../constants.js';
import { MessageContext } from '../context/message-context.js';
import { describeError, RpcError, RpcTimeoutError, RpcUnavailableError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { EVENTS_EXCHANGE, rpcQueue, serviceOfRpc } from '../topology/names.js';
import {
  decodeJson,
  encodeJson,
  type OutgoingMeta,
  publishProperties,
} from '../wire/properties.js';
import { isRpcReply } from '../wire/rpc-reply.js';
import { CircuitBreaker, type CircuitState } from '../rpc/circuit-breaker.js';

export interface CallOptions {
  timeoutMs?: number;
}

export interface EventMessage extends OutgoingMeta {
  /** Defaults to the message type: events are routed by name. */
  routingKey?: string;
}

interface PendingCall {
  pattern: string;
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The Nest `ClientProxy` for this transport: `send()` is an RPC over direct reply-to with a
 * timeout that is also the request's `expiration`; `emit()` publishes a persistent event and
 * completes when the broker confirms it. `request()` / `publishEvent()` are the typed,
 * promise-based forms the apps use.
 */
export class AmqpClient extends ClientProxy {
  private readonly logger = new Logger(AmqpClient.name);
  private readonly pending = new Map<string, PendingCall>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private rpcChannel?: ChannelWrapper;
  private eventChannel?: ChannelWrapper;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: ResolvedMessagingOptions,
  ) {
    super();
  }

  async connect(): Promise<void> {
    this.rpcChannel ??= this.createRpcChannel();
    this.eventChannel ??= this.createEventChannel();
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
  async publishEvent<C extends EventContract>(contract: C, payload: PayloadOf<C>): Promise<void> {
    await this.publishRaw(
      { type: contract.name, version: contract.version },
      contract.payload.parse(payload),
    );
  }

  /** Lower level: used by the outbox relay, which stores messages already encoded. */
  async publishRaw(message: EventMessage, payload: unknown): Promise<void> {
    await this.connect();
    const properties = publishProperties(
      { ...message, correlationId: message.correlationId ?? MessageContext.correlationId() },
      this.options.service,
      { persistent: true },
    );
    await this.eventChannel!.publish(
      EVENTS_EXCHANGE,
      message.routingKey ?? message.type,
      encodeJson(payload),
      properties,
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
    const breaker = this.breakerFor(serviceOfRpc(pattern));
    breaker?.admit();
    try {
      const data = await this.roundTrip(pattern, version, payload, options);
      breaker?.succeeded();
      return data;
    } catch (error) {
      // An error reply proves the service is alive; only silence and refusal count.
      if (error instanceof RpcTimeoutError || error instanceof RpcUnavailableError)
        breaker?.failed();
      else breaker?.succeeded();
      throw error;
    }
  }

  private breakerFor(service: string): CircuitBreaker | undefined {
    const options = this.options.circuitBreaker;
    if (!options) return undefined;
    let breaker = this.breakers.get(service);
    if (!breaker) this.breakers.set(service, (breaker = new CircuitBreaker(service, options)));
    return breaker;
  }

  private async roundTrip(
    pattern: string,
    version: number,
    payload: unknown,
    options: CallOptions,
  ): Promise<unknown> {
    await this.connect();
    const timeoutMs = options.timeoutMs ?? this.options.rpcTimeoutMs;
    const correlationId = randomUUID();
    const requestId = MessageContext.correlationId();
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new RpcTimeoutError(pattern, timeoutMs));
      }, timeoutMs);
      this.pending.set(correlationId, { pattern, resolve, reject, timer });
    });
    const properties = publishProperties(
      {
        type: pattern,
        version,
        correlationId,
        headers: requestId ? { [Headers.requestId]: requestId } : {},
      },
      this.options.service,
      {
        replyTo: DIRECT_REPLY_TO,
        // A request nobody picked up in time is dropped by the broker, not executed late.
        expiration: String(timeoutMs),
        mandatory: true,
        persistent: false,
      },
    );
    this.rpcChannel!.publish(
      '',
      rpcQueue(serviceOfRpc(pattern)),
      encodeJson(payload),
      properties,
    ).catch((error: unknown) =>
      this.settle(correlationId, new RpcUnavailableError(pattern, describeError(error))),
    );
    return result;
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
    for (const [id] of this.pending)
      this.settle(id, new RpcUnavailableError('(any)', 'client closed'));
    await Promise.all([this.rpcChannel?.close(), this.eventChannel?.close()]);
    this.rpcChannel = this.eventChannel = undefined;
  }

  unwrap<T>(): T {
    return this.connection as T;
  }

  private createRpcChannel(): ChannelWrapper {
    const channel = this.connection.createChannel({
      name: `${this.options.service}-rpc-client`,
      confirm: true,
      setup: async (ch: ConfirmChannel) => {
        // Direct reply-to: replies arrive on this channel with no reply queue to declare.
        await ch.consume(DIRECT_REPLY_TO, (msg) => msg && this.onReply(msg), { noAck: true });
        ch.on('return', (msg: Message) => this.onReturned(msg));
      },
    });
    channel.on('error', (err: Error) => this.logger.error(`RPC channel: ${err.message}`));
    return channel;
  }

  private createEventChannel(): ChannelWrapper {
    const channel = this.connection.createChannel({
      name: `${this.options.service}-publisher`,
      confirm: true,
      setup: async (ch: ConfirmChannel) => {
        await ch.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
      },
    });
    channel.on('error', (err: Error) => this.logger.error(`Publisher channel: ${err.message}`));
    return channel;
  }

  private onReply(msg: ConsumeMessage): void {
    const id = msg.properties.correlationId as string | undefined;
    const call = id ? this.pending.get(id) : undefined;
    if (!id || !call) return; // late reply for a call that already timed out
    const decoded = decodeJson(msg.content);
    if (!decoded.ok || !isRpcReply(decoded.value)) {
      return this.settle(
        id,
        new RpcError('INVALID_REPLY', `${call.pattern} replied with an invalid body`),
      );
    }
    const reply = decoded.value;
    if (reply.ok) return this.settle(id, undefined, reply.data);
    this.settle(id, new RpcError(reply.error.code, reply.error.message, reply.error.details));
  }

  /** `mandatory` requests come back when no queue exists for them: fail fast, don't wait. */
  private onReturned(msg: Message): void {
    const id = msg.properties.correlationId as string | undefined;
    const call = id ? this.pending.get(id) : undefined;
    if (id && call)
      this.settle(id, new RpcUnavailableError(call.pattern, 'no queue is bound for it'));
  }

  private settle(id: string, error: Error | undefined, data?: unknown): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    clearTimeout(call.timer);
    if (error) call.reject(error);
    else call.resolve(data);
  }
}
