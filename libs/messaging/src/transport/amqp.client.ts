import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, RmqRecord, type WritePacket } from '@nestjs/microservices';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import type { EventContract, PayloadOf, RequestOf, ResponseOf, RpcContract } from '@app/contracts';
import type { AmqpConnection } from '../connection/amqp-connection.js';
import type { TransportEventsMap, TransportStatus } from '../connection/transport-events.js';
import { MessageContext } from '../context/message-context.js';
import { RpcError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { CircuitState } from '../rpc/circuit-breaker.js';
import { type CallOptions, GuardedRpc } from '../rpc/guarded-rpc.js';
import { MessagingObservers } from '../observability/observers.js';
import { EVENTS_EXCHANGE } from '../topology/names.js';
import { ConfirmedPublisher } from '../wire/confirmed-publisher.js';
import {
  encodeJson,
  type OutgoingMeta,
  publishProperties,
  type Sender,
  senderOf,
} from '../wire/properties.js';
import { checked, KnownContracts } from './known-contracts.js';

export type { CallOptions } from '../rpc/guarded-rpc.js';

export interface EventMessage extends OutgoingMeta {
  /** Defaults to the message type: events are routed by name. */
  routingKey?: string;
}

const PERSISTENT = { persistent: true } as const;

type HeaderMap = Record<string, unknown>;

/**
 * The Nest `ClientProxy` for this transport: `send()` is an RPC over direct reply-to with a
 * timeout that is also the request's `expiration`; `emit()` publishes a persistent event and
 * completes when the broker confirms it. `request()` / `publishEvent()` are the typed,
 * promise-based forms the apps use.
 */
export class AmqpClient extends ClientProxy<TransportEventsMap, TransportStatus> {
  private readonly logger = new Logger(AmqpClient.name);
  private publisher: ConfirmedPublisher;
  private readonly sender: Sender;
  private readonly contracts: KnownContracts;
  private readonly rpc: GuardedRpc;
  private eventChannel?: ChannelWrapper;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly options: ResolvedMessagingOptions,
    private readonly observers: MessagingObservers = new MessagingObservers(),
  ) {
    super();
    this.sender = senderOf(options);
    this.contracts = new KnownContracts(options.contracts);
    this.rpc = new GuardedRpc(connection, options, this.sender, observers);
    this.publisher = this.newPublisher();
    connection.status.subscribe((status) => this._status$.next(status));
  }

  /** Listens for the shared connection's `error`, `connect`, `disconnect`, `blocked`, `unblocked`. */
  override on<E extends keyof TransportEventsMap>(event: E, callback: TransportEventsMap[E]): void {
    this.connection.on(event, callback);
  }

  /** Channels open lazily, on the first call or publish; calls made meanwhile wait for them. */
  async connect(): Promise<void> {
    this.rpc.open();
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

  /** How long the oldest event sent and not yet confirmed by the broker has waited (0: none). */
  get unconfirmedForMs(): number {
    return this.publisher.unconfirmedForMs;
  }

  /** State of the circuit of every service this client has called. */
  circuits(): Record<string, CircuitState> {
    return this.rpc.circuits();
  }

  /** Core of `send()` and `request()`: resolves with the reply's `data`. */
  call(
    pattern: string,
    version: number,
    payload: unknown,
    options?: CallOptions,
  ): Promise<unknown> {
    return this.rpc.call(pattern, version, payload, options);
  }

  /**
   * `send()`: the RPC of the pattern's contract, request and reply checked against it.
   * Unsubscribing gives the call up (its slot, deadline and circuit probe are released; a
   * request already sent may still run on the server).
   */
  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const abort = new AbortController();
    this.sendPacket(packet, abort.signal).then(
      (response) => !abort.signal.aborted && callback({ response, isDisposed: true }),
      (err: unknown) => !abort.signal.aborted && callback({ err, isDisposed: true }),
    );
    return () => abort.abort();
  }

  private async sendPacket(packet: ReadPacket, signal: AbortSignal): Promise<unknown> {
    const contract = this.contracts.rpc(this.normalizePattern(packet.pattern));
    const { data, headers } = unpack(packet);
    const request = checked(contract, contract.request, data);
    const reply = await this.call(contract.name, contract.version, request, { signal, headers });
    return checked(contract, contract.response, reply);
  }

  /** `emit()`: the event of the pattern's contract, its payload checked against it. */
  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const contract = this.contracts.event(this.normalizePattern(packet.pattern));
    const { data, headers } = unpack(packet);
    const payload = checked(contract, contract.payload, data);
    const observed = headers && this.eventHeaders(contract.name);
    await this.publishRaw(
      {
        type: contract.name,
        version: contract.version,
        headers: headers && { ...headers, ...observed },
      },
      payload,
    );
    return undefined as T;
  }

  async close(): Promise<void> {
    this.publisher.close();
    this.publisher = this.newPublisher();
    await Promise.all([this.rpc.close(), this.eventChannel?.close()]);
    this.eventChannel = undefined;
  }

  unwrap<T>(): T {
    return this.connection as T;
  }

  /**
   * Unconfirmed publishes past the timeout: the connection is replaced (another node), unless
   * the broker said it blocks publishing (an alarm: every node would, and it says when it ends).
   */
  private newPublisher(): ConfirmedPublisher {
    return new ConfirmedPublisher(this.options.publishTimeoutMs, Date.now, (error) => {
      if (!this.connection.blocked) this.connection.replace(error.message);
    });
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

/**
 * A packet's body and the headers its sender gave: Nest's `RmqRecord` options' `headers` and
 * the `metadata` a dispatch hook set. The other RmqRecord options (type, ids, persistence…)
 * are the transport's to set and are ignored.
 */
function unpack(packet: ReadPacket): { data: unknown; headers: HeaderMap | undefined } {
  const record = packet.data instanceof RmqRecord ? packet.data : undefined;
  const data: unknown = record ? record.data : packet.data;
  const own = record?.options?.headers;
  const metadata = packet.metadata;
  if (!own && !metadata) return { data, headers: undefined };
  return { data, headers: { ...metadata, ...own } };
}
