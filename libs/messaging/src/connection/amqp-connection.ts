import { rootCertificates } from 'node:tls';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import amqp, {
  type AmqpConnectionManager,
  type ChannelWrapper,
  type CreateChannelOpts,
} from 'amqp-connection-manager';
import { distinctUntilChanged, type Observable } from 'rxjs';
import { Defaults } from '../constants.js';
import { ensureExchange } from '../topology/declare.js';
import { amqplibSocket, coalesceWrites } from './coalesce-writes.js';
import { MESSAGING_OPTIONS } from '../messaging.module-definition.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import {
  TransportEvents,
  type TransportEventsMap,
  type TransportStatus,
} from './transport-events.js';

/**
 * The one broker connection of a process. amqp-connection-manager reconnects (trying each
 * URL in turn) and re-runs every channel's setup, so topology and consumers come back by
 * themselves; unconfirmed publishes are re-sent on the new channel.
 */
@Injectable()
export class AmqpConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(AmqpConnection.name);
  private readonly manager: AmqpConnectionManager;
  private blockedReason: string | undefined;
  private closing = false;
  /** Status and events, which AmqpServer and AmqpClient hand on as Nest transports do. */
  readonly events = new TransportEvents();
  /** Why the last attempt failed (a refused port, a certificate): start-up's error names it. */
  private lastConnectError: string | undefined;

  constructor(@Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions) {
    this.manager = amqp.connect([...options.urls], {
      heartbeatIntervalInSeconds: options.heartbeatSeconds,
      reconnectTimeInSeconds: Defaults.reconnectSeconds,
      connectionOptions: {
        // Nagle's algorithm adds ~40 ms to every small RPC round trip.
        noDelay: true,
        timeout: Defaults.connectAttemptTimeoutMs,
        clientProperties: { connection_name: `${options.service}@${process.pid}` },
        // For amqps:// URLs: trust this CA (e.g. a private one) on top of Node's bundled
        // ones (a `ca` option alone replaces them).
        ...(options.tls?.ca ? { ca: [...rootCertificates, ...options.tls.ca] } : {}),
      },
    });
    this.manager.on('connect', ({ connection, url }) => {
      const socket = amqplibSocket(connection);
      if (socket) coalesceWrites(socket);
      else
        this.logger.warn(
          'amqplib socket not found: writes are not coalesced (slower, still correct)',
        );
      this.logger.log(`Connected to RabbitMQ at ${redact(String(url))}`);
      this.lastConnectError = undefined;
      this.setStatus('connected');
      this.events.emit('connect');
    });
    this.manager.on('disconnect', ({ err }) => {
      this.logger.warn(`RabbitMQ connection lost: ${err?.message ?? 'closed'}`);
      this.setStatus('disconnected');
      this.events.emit('disconnect', err);
      // amqp-connection-manager tries again by itself unless we are shutting down.
      if (!this.closing) this.setStatus('reconnecting');
    });
    this.manager.on('connectFailed', ({ err, url }) => {
      this.lastConnectError = err.message;
      this.logger.warn(`Cannot connect to RabbitMQ at ${redact(String(url))}: ${err.message}`);
      this.setStatus('reconnecting');
      this.events.emit('error', err);
    });
    this.manager.on('blocked', ({ reason }) => {
      this.blockedReason = reason;
      this.logger.warn(`RabbitMQ blocked publishing: ${reason}`);
      this.events.emit('blocked', { reason });
    });
    this.manager.on('unblocked', () => {
      this.blockedReason = undefined;
      this.logger.log('RabbitMQ unblocked publishing');
      this.events.emit('unblocked');
    });
  }

  get service(): string {
    return this.options.service;
  }

  isConnected(): boolean {
    return this.manager.isConnected();
  }

  /** Why the last connection attempt failed (a refused port, a certificate), if one did. */
  get lastConnectFailure(): string | undefined {
    return this.lastConnectError;
  }

  /** Set while the broker refuses publishes (memory or disk alarm). */
  get blocked(): string | undefined {
    return this.blockedReason;
  }

  /** Latest status first, then every change: `connected`, `disconnected`, `reconnecting`. */
  get status(): Observable<TransportStatus> {
    return this.events.status.pipe(distinctUntilChanged());
  }

  /** Listens for `error`, `connect`, `disconnect`, `blocked`, `unblocked` (Nest's RMQ names). */
  on<E extends keyof TransportEventsMap>(event: E, listener: TransportEventsMap[E]): void {
    this.events.on(event, listener);
  }

  /**
   * A channel on this connection, re-set-up on every reconnect. Its failures reach the
   * `error` listeners. We publish on the raw channels the setup hands over (our own confirm
   * tracking, wire/confirmed-publisher.ts), never through the wrapper, so the wrapper's
   * `publishTimeout` would have no effect and is not set.
   */
  createChannel(opts: CreateChannelOpts): ChannelWrapper {
    const wrapper = this.manager.createChannel(opts);
    wrapper.on('error', (err: Error) => this.events.emit('error', err));
    return wrapper;
  }

  /**
   * Gives up the current connection and reconnects, to the next node of the URL list: for a
   * connection that is open but not doing its job (publishes neither confirmed nor nacked, as
   * on a node cut off from its cluster). The socket is destroyed rather than closed politely:
   * a close handshake on such a link may never finish. Channels and consumers come back on
   * the new connection, as after any other loss.
   */
  replace(reason: string): void {
    if (this.closing || !this.manager.isConnected()) return;
    this.logger.warn(`Replacing the RabbitMQ connection: ${reason}`);
    const socket = amqplibSocket(this.manager.connection);
    if (socket) socket.destroy(new Error(reason));
    else this.manager.reconnect();
  }

  /** Declares the exchange unless it exists (see `ensureExchange`); call from a channel's setup. */
  async ensureExchange(name: string, type: 'topic' | 'direct'): Promise<void> {
    const connection = this.manager.connection;
    if (!connection) throw new Error(`Not connected: cannot check exchange ${name}`);
    await ensureExchange(connection, name, type);
  }

  /** Resolves once connected, or rejects after `timeoutMs` naming the broker it waited for. */
  async waitForConnect(timeoutMs: number): Promise<void> {
    if (this.manager.isConnected()) return;
    try {
      await this.manager.connect({ timeout: timeoutMs });
    } catch (error) {
      const where = this.options.urls.map(redact).join(', ');
      const last = this.lastConnectError ? ` (last attempt: ${this.lastConnectError})` : '';
      throw new Error(`RabbitMQ not reachable at ${where}: ${(error as Error).message}${last}`, {
        cause: error,
      });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    await this.manager.close();
    this.setStatus('disconnected');
  }

  private setStatus(status: TransportStatus): void {
    this.events.status.next(status);
  }
}

/** Keeps passwords out of logs. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
