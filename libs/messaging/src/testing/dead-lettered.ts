import type { ConfirmChannel, ConsumeMessage, MessageProperties, Options } from 'amqplib';
import { FailureHandler } from '../retry/failure-handler.js';
import { readMeta } from '../wire/properties.js';

/**
 * The properties of the copy a consumer's real FailureHandler puts in `<service>.dlq` when
 * the handler of `delivery` fails for good with `error`: what dead-letter tooling reads.
 * No broker: the channel only records the publish.
 */
export async function deadLetteredCopy(
  delivery: ConsumeMessage,
  consumer: { service: string; queue: string },
  error: Error,
): Promise<MessageProperties> {
  let copy: Options.Publish | undefined;
  const channel = {
    publish: (_x: string, _k: string, _c: Buffer, options: Options.Publish, cb: () => void) => {
      copy = options;
      cb();
      return true;
    },
  } as unknown as ConfirmChannel;
  const sender = { appId: consumer.service, userId: consumer.service };
  await new FailureHandler(sender, consumer.queue, { immediate: 0, delaysMs: [] }).handlerFailed(
    { channel, ack: () => undefined, requeue: () => undefined },
    delivery,
    readMeta(delivery),
    error,
  );
  const { persistent, ...rest } = copy!;
  return { ...delivery.properties, ...rest, deliveryMode: persistent ? 2 : 1 } as MessageProperties;
}
