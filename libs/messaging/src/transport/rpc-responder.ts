import { Logger } from '@nestjs/common';
import type { Channel, ConsumeMessage } from 'amqplib';
import { describeError, PermanentError, toRpcErrorBody } from '../errors.js';
import { FailureHandler } from '../retry/failure-handler.js';
import { declareServiceTopology, type ServiceTopology } from '../topology/declare.js';
import { rpcQueue } from '../topology/names.js';
import { decodeJson, encodeJson, type IncomingMeta, replyProperties } from '../wire/properties.js';
import type { RpcReply } from '../wire/rpc-reply.js';
import { AmqpContext } from './amqp.context.js';
import type { ConsumerChannel } from './consumer-channel.js';
import { deadLettered, type Ended, runDelivery } from './delivery.js';
import type { ConsumerParts } from './event-consumer.js';

const REPLIED: Ended = { outcome: 'replied' };

/**
 * Consumes `<service>.rpc` for `@MessagePattern` handlers and answers every request (an
 * error reply at worst) on a reply channel without confirms, then acks. RPCs are never
 * retried here: the caller owns the timeout and decides what to do about a failure.
 */
export class RpcResponder {
  private readonly logger = new Logger(RpcResponder.name);
  private readonly failures: FailureHandler;
  private readonly queue: string;
  private replyChannel: () => Channel | undefined = () => undefined;

  constructor(private readonly parts: ConsumerParts) {
    this.queue = rpcQueue(parts.options.service);
    this.failures = new FailureHandler(parts.sender, this.queue, parts.options.retry);
  }

  async start(topology: ServiceTopology): Promise<void> {
    const { options, channels, observers } = this.parts;
    const [replies] = await Promise.all([
      channels.openPublisher(`${options.service}-rpc-replies`),
      channels.consume({
        name: `${options.service}-rpc`,
        queue: this.queue,
        prefetch: options.rpcPrefetch,
        declare: (ch) => declareServiceTopology(ch, topology),
        onMessage: (ch, msg) => runDelivery(observers, 'rpc', this.queue, ch, msg, this.process),
      }),
    ]);
    this.replyChannel = replies.current;
  }

  private readonly process = async (
    ch: ConsumerChannel,
    msg: ConsumeMessage,
    meta: IncomingMeta,
  ): Promise<Ended> => {
    if (!meta.replyTo) {
      return deadLettered(
        this.failures,
        ch,
        msg,
        meta,
        'no-reply-to',
        'RPC request without reply_to',
      );
    }
    // A request from a caller its contract does not name gets no answer, only the DLQ.
    const { screen, observers, sender } = this.parts;
    const known = meta.type !== undefined && this.parts.handlerFor(meta.type) !== null;
    const refused = screen.size(msg) ?? (known ? screen.request(msg, meta) : undefined);
    if (refused) return deadLettered(this.failures, ch, msg, meta, refused.reason, refused.error);
    const reply = await this.answer(ch, msg, meta);
    const type = `${meta.type ?? 'unknown'}.reply`;
    const info = { kind: 'rpc-reply', type, exchange: '', routingKey: meta.replyTo } as const;
    const headers = observers.active ? observers.headers(info, undefined) : undefined;
    const properties = replyProperties(
      { type, version: meta.version ?? 1, correlationId: meta.correlationId, headers },
      sender,
    );
    try {
      // Replies go out on a channel without confirms (the caller's timeout covers a lost one);
      // the consuming channel stays in confirm mode for the rare dead-letter move.
      (this.replyChannel() ?? ch.channel).publish('', meta.replyTo, encodeJson(reply), properties);
      observers.published(info, true);
    } catch (error) {
      observers.published(info, false);
      this.logger.error(
        `Could not reply to ${meta.type} ${meta.correlationId}: ${describeError(error)}`,
      );
    }
    ch.ack(msg);
    return reply.ok ? REPLIED : { outcome: 'replied', detail: reply.error.code };
  };

  private async answer(
    ch: ConsumerChannel,
    msg: ConsumeMessage,
    meta: IncomingMeta,
  ): Promise<RpcReply> {
    const decoded = decodeJson(msg.content);
    if (!decoded.ok) return fail('BAD_REQUEST', decoded.error);
    const handler = meta.type ? this.parts.handlerFor(meta.type) : null;
    if (!handler || handler.isEventHandler) {
      const service = this.parts.options.service;
      return fail('UNKNOWN_MESSAGE', `${service} has no RPC handler for "${meta.type}"`);
    }
    const { invoker } = this.parts;
    try {
      const payload = invoker.validate(handler, meta.type!, decoded.value, meta.version);
      const data = await invoker.invoke(handler, payload, new AmqpContext([msg, ch.channel, meta]));
      return { ok: true, data: data ?? null };
    } catch (error) {
      if (!(error instanceof PermanentError)) {
        this.logger.error(`${meta.type} ${meta.correlationId} failed: ${describeError(error)}`);
      }
      return { ok: false, error: toRpcErrorBody(error) };
    }
  }
}

function fail(code: string, message: string): RpcReply {
  return { ok: false, error: { code, message } };
}
