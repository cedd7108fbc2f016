import { Logger } from '@nestjs/common';
import type { ConsumeMessage, MessageProperties, Options } from 'amqplib';
import { type DEATH_REASONS, Defaults, HeaderNames } from '../constants.js';
import { describeError, PermanentError } from '../errors.js';
import type { RetryOptions } from '../messaging.options.js';
import { deadLetterQueue, retryQueue, serviceExchange } from '../topology/names.js';
import { publishConfirmed } from '../wire/confirm.js';
import type { ConsumerChannel } from '../transport/consumer-channel.js';
import type { IncomingMeta, Sender } from '../wire/properties.js';

/** Why a message left its work queue; the `x-death-reason` header of a dead letter. */
export type DeathReason = (typeof DEATH_REASONS)[number];

/** The channel a delivery came on, and how it is settled there (acks are batched). */
export type DeliveryChannel = Pick<ConsumerChannel, 'channel' | 'ack' | 'requeue'>;

/** Where a failed delivery went; `abandoned`: not moved, left for the broker to redeliver. */
export type MoveOutcome = 'retried' | 'dead-lettered' | 'abandoned';

/**
 * Moves a failed delivery to its next retry tier or to the dead-letter queue, and acks the
 * original only after the broker confirmed the copy: a message is never in neither place.
 * Copies go through the service's own exchange, published as the service's broker user.
 */
export class FailureHandler {
  private readonly logger = new Logger(FailureHandler.name);
  private readonly service: string;
  private readonly exchange: string;

  constructor(
    private readonly sender: Sender,
    private readonly workQueue: string,
    private readonly retry: RetryOptions,
    private readonly refusedBackoffMs: number = Defaults.refusedMoveBackoffMs,
  ) {
    this.service = sender.appId;
    this.exchange = serviceExchange(sender.appId);
  }

  /**
   * A handler threw after its immediate tries: schedule a delayed retry or give up.
   * `retry` is the handler's own policy when it overrides the service's.
   */
  async handlerFailed(
    ch: DeliveryChannel,
    msg: ConsumeMessage,
    meta: IncomingMeta,
    error: unknown,
    retry: RetryOptions = this.retry,
  ): Promise<MoveOutcome> {
    if (error instanceof PermanentError) {
      return this.deadLetter(ch, msg, meta, 'rejected', error);
    }
    const round = meta.attempts; // failed deliveries before this one
    const delayMs = retry.delaysMs[round];
    if (delayMs === undefined) {
      return this.deadLetter(ch, msg, meta, 'retries-exhausted', error);
    }
    const queue = retryQueue(this.workQueue, delayMs);
    this.logger.warn(
      `${meta.type} ${meta.messageId} failed (attempt ${round + 1}), retrying in ${delayMs} ms: ${describeError(error)}`,
    );
    const moved = await this.move(ch, msg, meta, queue, {
      [HeaderNames.attempts]: round + 1,
      [HeaderNames.errorMessage]: truncate(describeError(error)),
      ...this.origin(msg, meta),
    });
    return moved ? 'retried' : 'abandoned';
  }

  async deadLetter(
    ch: DeliveryChannel,
    msg: ConsumeMessage,
    meta: IncomingMeta,
    reason: DeathReason,
    error: unknown,
  ): Promise<MoveOutcome> {
    this.logger.error(
      `${meta.type ?? '(no type)'} ${meta.messageId ?? '(no id)'} dead-lettered (${reason}): ${describeError(error)}`,
    );
    const moved = await this.move(ch, msg, meta, deadLetterQueue(this.service), {
      [HeaderNames.deathReason]: reason,
      [HeaderNames.errorMessage]: truncate(describeError(error)),
      [HeaderNames.attempts]:
        reason === 'retries-exhausted' || reason === 'rejected' ? meta.attempts + 1 : meta.attempts,
      [HeaderNames.failedAt]: new Date().toISOString(),
      [HeaderNames.service]: this.service,
      ...this.origin(msg, meta),
    });
    return moved ? 'dead-lettered' : 'abandoned';
  }

  private async move(
    ch: DeliveryChannel,
    msg: ConsumeMessage,
    meta: IncomingMeta,
    queue: string,
    headers: Record<string, unknown>,
  ): Promise<boolean> {
    try {
      await publishConfirmed(
        ch.channel,
        this.exchange,
        queue,
        msg.content,
        copyProperties(msg.properties, meta, headers, this.sender.userId),
      );
      ch.ack(msg);
      return true;
    } catch (error) {
      // Not moved: leave it to the broker. A closed channel redelivers it; a copy the broker
      // refused (a full DLQ nacks) is requeued after a pause, so it waits in its work queue
      // instead of spinning through the consumer.
      this.logger.error(`could not move message to ${queue}: ${describeError(error)}`);
      await new Promise((resolve) => setTimeout(resolve, this.refusedBackoffMs));
      safely(() => ch.requeue(msg));
      return false;
    }
  }

  /**
   * The first failure records where the message came from and who sent it; later hops (copies
   * that came back through the service's own exchange) keep that. Headers a delivery brought
   * from anywhere else are the publisher's word, not ours, and are overwritten.
   */
  private origin(msg: ConsumeMessage, meta: IncomingMeta): Record<string, unknown> {
    if (
      msg.fields.exchange === this.exchange &&
      meta.headers[HeaderNames.originalQueue] !== undefined
    ) {
      return {};
    }
    return {
      [HeaderNames.originalQueue]: this.workQueue,
      [HeaderNames.originalExchange]: msg.fields.exchange,
      [HeaderNames.originalRoutingKey]: msg.fields.routingKey,
      [HeaderNames.originalUserId]: msg.properties.userId,
    };
  }
}

function copyProperties(
  p: MessageProperties,
  meta: IncomingMeta,
  headers: Record<string, unknown>,
  userId: string,
): Options.Publish {
  return {
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    messageId: p.messageId,
    correlationId: p.correlationId,
    // A copy comes back through the service's exchange, so the routing key no longer names
    // the event: keep the type readMeta resolved (a bare publisher may have set none).
    type: meta.type ?? p.type,
    timestamp: p.timestamp,
    appId: p.appId,
    // The broker accepts only the publishing user here. The original publisher was checked
    // when the message first arrived; a copy is trusted as this service's own.
    userId,
    persistent: true,
    headers: { ...p.headers, ...headers },
  };
}

function truncate(text: string, max = 1_000): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the channel is gone; the broker requeues what it delivered on it
  }
}
