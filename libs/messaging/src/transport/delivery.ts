import type { ConsumeMessage } from 'amqplib';
import { MessageContext } from '../context/message-context.js';
import { describeError } from '../errors.js';
import type { DeathReason, FailureHandler } from '../retry/failure-handler.js';
import type { ConsumeOutcome, MessagingObservers } from '../observability/observers.js';
import { type IncomingMeta, readMeta } from '../wire/properties.js';
import type { ConsumerChannel } from './consumer-channel.js';
import { consumeContext } from './handler-invoker.js';

/** How a delivery ended, told to the observers; `detail` says why when it failed. */
export interface Ended {
  outcome: ConsumeOutcome;
  detail?: string;
}

export type ProcessDelivery = (
  ch: ConsumerChannel,
  msg: ConsumeMessage,
  meta: IncomingMeta,
) => Promise<Ended>;

/**
 * One delivery, observed and in the message's context (so whatever it logs, retry and
 * dead-letter lines included, carries its correlation id), processed by `process`.
 */
export async function runDelivery(
  observers: MessagingObservers,
  kind: 'event' | 'rpc',
  queue: string,
  ch: ConsumerChannel,
  msg: ConsumeMessage,
  process: ProcessDelivery,
): Promise<void> {
  const meta = readMeta(msg);
  const scope = observers.consuming({
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

/** Moves a delivery to its DLQ and says how that ended, and why, for the observers. */
export async function deadLettered(
  failures: FailureHandler,
  ch: ConsumerChannel,
  msg: ConsumeMessage,
  meta: IncomingMeta,
  reason: DeathReason,
  error: unknown,
): Promise<Ended> {
  const outcome = await failures.deadLetter(ch, msg, meta, reason, error);
  return { outcome, detail: `${reason}: ${describeError(error)}` };
}
