import type { Logger } from '@nestjs/common';
import type { ChannelWrapper } from 'amqp-connection-manager';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { AmqpConnection } from '../connection/amqp-connection.js';
import { describeError } from '../errors.js';
import { ConsumerChannel } from './consumer-channel.js';
import { InFlight } from './in-flight.js';

export interface ConsumerSpec {
  /** The channel's name (logs, amqp-connection-manager). */
  name: string;
  queue: string;
  prefetch: number;
  /** Runs on every (re)connect before consuming: declares what the queue needs. */
  declare: (ch: ConfirmChannel) => Promise<void>;
  onMessage: (ch: ConsumerChannel, msg: ConsumeMessage) => Promise<void>;
}

interface ActiveConsumer {
  consumer: ConsumerChannel;
  consumerTag: string;
}

/**
 * The server's channels: one per consumer, so RPC and events have their own prefetch and
 * flow, plus publish-only channels (RPC replies). Each comes back on every reconnect; the
 * handlers running on them are counted so shutdown can wait for them.
 */
export class ConsumerChannels {
  private readonly wrappers: ChannelWrapper[] = [];
  private readonly consumers = new Map<string, ActiveConsumer>();
  private readonly inFlight = new InFlight();
  private closing = false;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly logger: Logger,
  ) {}

  async consume({ name, queue, prefetch, declare, onMessage }: ConsumerSpec): Promise<void> {
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
    this.watch(wrapper, name);
    await wrapper.waitForConnect();
  }

  /**
   * A channel without confirms to publish on; `current()` is undefined while it is being
   * replaced (the caller falls back to another channel).
   */
  async openPublisher(name: string): Promise<{ current: () => Channel | undefined }> {
    let channel: Channel | undefined;
    const wrapper = this.connection.createChannel({
      name,
      confirm: false,
      setup: async (ch: Channel) => {
        ch.once('close', () => {
          if (channel === ch) channel = undefined;
        });
        channel = ch;
      },
    });
    this.watch(wrapper, name);
    await wrapper.waitForConnect();
    return { current: () => channel };
  }

  /** Stop taking work, let in-flight handlers finish (bounded), then close the channels. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    await Promise.all(
      [...this.consumers.values()].map(({ consumer, consumerTag }) =>
        consumer.channel.cancel(consumerTag).catch(() => undefined),
      ),
    );
    const drained = await this.inFlight.drain(timeoutMs);
    if (!drained) {
      this.logger.warn(
        `${this.inFlight.size} handler(s) still running after ${timeoutMs} ms; their messages will be redelivered`,
      );
    }
    for (const { consumer } of this.consumers.values()) consumer.flush();
    await Promise.all(this.wrappers.map((w) => w.close().catch(() => undefined)));
  }

  private watch(wrapper: ChannelWrapper, name: string): void {
    wrapper.on('error', (err: Error) => this.logger.error(`Channel ${name}: ${err.message}`));
    this.wrappers.push(wrapper);
  }
}
