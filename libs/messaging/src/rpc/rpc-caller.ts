import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConsumeMessage, Message } from 'amqplib';
import type { AmqpConnection } from '../connection/amqp-connection.js';
import { DIRECT_REPLY_TO, HeaderNames } from '../constants.js';
import { RpcCancelledError, RpcError, RpcTimeoutError, RpcUnavailableError } from '../errors.js';
import { rpcQueue, serviceOfRpc } from '../topology/names.js';
import { decodeJson, encodeJson, publishProperties, type Sender } from '../wire/properties.js';
import { isRpcReply } from '../wire/rpc-reply.js';
import { DeadlineTimer } from './deadline-timer.js';

interface Call {
  /** The correlation_id (and message_id) of the request. */
  id: string;
  pattern: string;
  /** `<service>.rpc`, from the pattern. */
  queue: string;
  version: number;
  body: Buffer;
  /** Extra headers: the request id, trace context. */
  headers: Record<string, unknown> | undefined;
  timeoutMs: number;
  deadline: number;
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
  /** Set when the caller can give the call up (`send()`): removed once the call settles. */
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Request/reply over direct reply-to on one channel: requests go out `mandatory` with
 * `expiration` = the time left, replies are matched by `correlation_id`. The channel is not
 * in confirm mode: the reply is the confirmation, and a request with no queue comes back
 * (basic.return) and fails at once. While reconnecting, calls wait (within their timeout)
 * and go out on the new channel.
 */
export class RpcCaller {
  private readonly logger = new Logger(RpcCaller.name);
  private readonly calls = new Map<string, Call>();
  private readonly timeouts = new DeadlineTimer((now) => this.expire(now));
  private readonly wrapper: ChannelWrapper;
  private channel: Channel | undefined;
  private waiting: Call[] = [];

  constructor(
    connection: AmqpConnection,
    private readonly sender: Sender,
  ) {
    this.wrapper = connection.createChannel({
      name: `${sender.appId}-rpc-client`,
      confirm: false,
      setup: async (ch: Channel) => {
        // Replies arrive on the channel that consumes the pseudo-queue, with nothing to declare.
        await ch.consume(DIRECT_REPLY_TO, (msg) => msg && this.onReply(msg), { noAck: true });
        ch.on('return', (msg: Message) => this.onReturned(msg));
        ch.once('close', () => {
          if (this.channel === ch) this.channel = undefined;
        });
        this.channel = ch;
        this.sendWaiting();
      },
    });
    this.wrapper.on('error', (err: Error) => this.logger.error(`RPC channel: ${err.message}`));
  }

  call(
    pattern: string,
    version: number,
    payload: unknown,
    timeoutMs: number,
    requestId?: string,
    extraHeaders?: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(new RpcCancelledError(pattern));
    return new Promise((resolve, reject) => {
      const queue = rpcQueue(serviceOfRpc(pattern)); // throws (rejects) on a malformed name
      const id = randomUUID();
      const call: Call = {
        id,
        pattern,
        queue,
        version,
        body: encodeJson(payload),
        headers: requestId ? { ...extraHeaders, [HeaderNames.requestId]: requestId } : extraHeaders,
        timeoutMs,
        deadline: Date.now() + timeoutMs,
        resolve,
        reject,
      };
      this.calls.set(id, call);
      if (signal) {
        // Gives the slot up: the deadline and a waiting send go with it (both check `calls`).
        call.signal = signal;
        call.onAbort = () => this.settle(id, new RpcCancelledError(pattern));
        signal.addEventListener('abort', call.onAbort, { once: true });
      }
      this.timeouts.schedule(call.deadline);
      if (this.channel) this.send(call);
      else this.waiting.push(call);
    });
  }

  async close(): Promise<void> {
    for (const id of [...this.calls.keys()])
      this.settle(id, new RpcUnavailableError('(any)', 'client closed'));
    this.timeouts.stop();
    await this.wrapper.close();
  }

  private send(call: Call): void {
    const left = call.deadline - Date.now();
    const properties = publishProperties(
      {
        type: call.pattern,
        version: call.version,
        messageId: call.id,
        correlationId: call.id,
        headers: call.headers,
      },
      this.sender,
      {
        replyTo: DIRECT_REPLY_TO,
        // A request nobody picked up in time is dropped by the broker, not executed late.
        expiration: String(Math.max(1, left)),
        mandatory: true,
        persistent: false,
      },
    );
    try {
      this.channel!.publish('', call.queue, call.body, properties);
    } catch {
      this.channel = undefined; // closed under us: wait for the next one
      this.waiting.push(call);
    }
  }

  private sendWaiting(): void {
    const waiting = this.waiting;
    this.waiting = [];
    // Skip the calls that timed out while waiting.
    for (const call of waiting) if (this.calls.has(call.id)) this.send(call);
  }

  private onReply(msg: ConsumeMessage): void {
    const id = msg.properties.correlationId as string | undefined;
    const call = id ? this.calls.get(id) : undefined;
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
    const call = id ? this.calls.get(id) : undefined;
    if (id && call)
      this.settle(id, new RpcUnavailableError(call.pattern, 'no queue is bound for it'));
  }

  /** Fails the calls past their deadline; returns the earliest deadline still pending. */
  private expire(now: number): number | undefined {
    let next: number | undefined;
    for (const call of this.calls.values()) {
      if (call.deadline <= now)
        this.settle(call.id, new RpcTimeoutError(call.pattern, call.timeoutMs));
      else if (next === undefined || call.deadline < next) next = call.deadline;
    }
    return next;
  }

  private settle(id: string, error: Error | undefined, data?: unknown): void {
    const call = this.calls.get(id);
    if (!call) return;
    this.calls.delete(id);
    if (call.onAbort) call.signal!.removeEventListener('abort', call.onAbort);
    if (error) call.reject(error);
    else call.resolve(data);
  }
}
