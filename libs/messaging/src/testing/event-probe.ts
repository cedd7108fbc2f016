import { randomUUID } from 'node:crypto';
import amqplib, {
  type ChannelModel,
  type ConfirmChannel,
  type GetMessage,
  type Options,
} from 'amqplib';
import type { EventContract, PayloadOf } from '@app/contracts';
import { brokerUserOf } from '../messaging.options.js';
import { EVENTS_EXCHANGE } from '../topology/names.js';
import { waitFor } from './wait-for.js';

export interface CapturedMessage {
  routingKey: string;
  type: string | undefined;
  messageId: string | undefined;
  correlationId: string | undefined;
  /** Who published it, as the broker vouches (AMQP `user_id`). */
  userId: string | undefined;
  headers: Record<string, unknown>;
  body: unknown;
}

/**
 * A test's own view of the broker, in plain amqplib (so it also proves the wire format):
 * captures every event on the `events` exchange and publishes raw messages.
 */
export class EventProbe {
  readonly received: CapturedMessage[] = [];
  private readonly taken = new Set<CapturedMessage>();

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: ConfirmChannel,
    /** The broker user the probe connects as: what it publishes carries it as `user_id`. */
    readonly user: string,
  ) {}

  static async start(url: string, bindingKeys: readonly string[] = ['#']): Promise<EventProbe> {
    const connection = await amqplib.connect(url);
    const channel = await connection.createConfirmChannel();
    const probe = new EventProbe(connection, channel, brokerUserOf([url]));
    await channel.assertExchange(EVENTS_EXCHANGE, 'topic', { durable: true });
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    for (const key of bindingKeys) await channel.bindQueue(queue, EVENTS_EXCHANGE, key);
    await channel.consume(
      queue,
      (msg) => {
        if (!msg) return;
        let body: unknown;
        try {
          body = JSON.parse(msg.content.toString());
        } catch {
          body = msg.content.toString();
        }
        probe.received.push({
          routingKey: msg.fields.routingKey,
          type: msg.properties.type as string | undefined,
          messageId: msg.properties.messageId as string | undefined,
          correlationId: msg.properties.correlationId as string | undefined,
          userId: msg.properties.userId as string | undefined,
          headers: (msg.properties.headers ?? {}) as Record<string, unknown>,
          body,
        });
      },
      { noAck: true },
    );
    return probe;
  }

  /** The next not-yet-taken event of this contract that matches `where`, waiting for it. */
  async next<C extends EventContract>(
    contract: C,
    {
      where = () => true,
      timeoutMs = 10_000,
    }: { where?: (payload: PayloadOf<C>) => boolean; timeoutMs?: number } = {},
  ): Promise<CapturedMessage & { body: PayloadOf<C> }> {
    const found = await waitFor(
      `event ${contract.name}`,
      () =>
        this.received.find(
          (m) => !this.taken.has(m) && m.type === contract.name && where(m.body as PayloadOf<C>),
        ),
      { timeoutMs },
    );
    this.taken.add(found);
    return found as CapturedMessage & { body: PayloadOf<C> };
  }

  all<C extends EventContract>(
    contract: C,
    where: (payload: PayloadOf<C>) => boolean = () => true,
  ) {
    return this.received.filter((m) => m.type === contract.name && where(m.body as PayloadOf<C>));
  }

  /**
   * Publishes raw bytes (or JSON) and waits for the broker's confirm. `user_id` is the
   * probe's user, as every publisher sets it, unless `options` say otherwise.
   */
  async publish(
    exchange: string,
    routingKey: string,
    body: Buffer | unknown,
    options: Options.Publish = {},
  ) {
    const content = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const properties = { userId: this.user, ...options };
    await new Promise<void>((resolve, reject) =>
      this.channel.publish(exchange, routingKey, content, properties, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  /**
   * Publishes an event as the wire format (docs/messaging.md) says a producer does: JSON,
   * persistent, to `events` under its type, with `type`, a fresh `message_id` and
   * `x-message-version` (1 unless `version` says otherwise); `options` override any of them
   * (the same `messageId` twice is a redelivery). Waits for the broker's confirm.
   */
  async publishEvent(
    type: string,
    body: Buffer | unknown,
    options: Options.Publish & { routingKey?: string; version?: number } = {},
  ): Promise<void> {
    const { routingKey = type, version = 1, ...properties } = options;
    await this.publish(EVENTS_EXCHANGE, routingKey, body, {
      messageId: randomUUID(),
      type,
      contentType: 'application/json',
      persistent: true,
      headers: { 'x-message-version': version },
      ...properties,
    });
  }

  /**
   * Waits for a message in `queue` whose body contains `marker`, removes it and returns it;
   * other messages are put back. For inspecting dead-letter and retry queues.
   */
  async take(queue: string, marker: string, timeoutMs = 10_000): Promise<GetMessage> {
    return waitFor(
      `a message containing ${marker} in ${queue}`,
      async () => {
        const seen: GetMessage[] = [];
        try {
          for (let msg = await this.channel.get(queue); msg; msg = await this.channel.get(queue)) {
            if (msg.content.toString().includes(marker)) {
              this.channel.ack(msg);
              return msg;
            }
            seen.push(msg);
          }
          return undefined;
        } finally {
          for (const msg of seen) this.channel.nack(msg, false, true);
        }
      },
      { timeoutMs },
    );
  }

  /**
   * Ready messages and consumers of `queue`, exact at this instant (a passive declare, answered
   * by the queue itself; the management API's counts can be seconds old). Unacked deliveries
   * are not counted: prove those gone by the consumers' own counts, or by stopping them.
   */
  async queue(name: string): Promise<{ ready: number; consumers: number }> {
    // A passive declare of a missing queue closes its channel: one channel per call.
    const channel = await this.connection.createChannel();
    try {
      const { messageCount, consumerCount } = await channel.checkQueue(name);
      return { ready: messageCount, consumers: consumerCount };
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}
