import amqplib, { type ChannelModel, type ConfirmChannel, type GetMessage } from 'amqplib';
import { brokerUserOf, deadLetterQueue, Defaults, publishConfirmed } from '@app/messaging';
import { type DeadLetterFilter, limitOf, selectsAll } from './filter.js';
import { scanQueue, type StopReason } from './queue-scan.js';
import { replayProperties } from './replay-properties.js';
import { replayTarget } from './replay-target.js';
import { type DeadLetter, type DeadLetterSummary, describeDeadLetter } from './summary.js';

export type { StopReason } from './queue-scan.js';

export type { DeadLetterFilter } from './filter.js';
export type { Origin } from './origin.js';
export type { DeadLetter, DeadLetterSummary } from './summary.js';

export interface DeadLettersOptions {
  /** The most messages one command reads from the queue. */
  scanLimit?: number;
  /** How long one command may scan; it stops early and says so. */
  timeoutMs?: number;
  /** How long a replayed message may wait for the broker's confirm. */
  publishTimeoutMs?: number;
}

/** Why a scan ended: the end of the queue as it was when the command began, or a bound. */

export interface Scan {
  queue: string;
  scanned: number;
  stoppedBy: StopReason;
}

export interface ListResult extends Scan {
  messages: DeadLetterSummary[];
}

export interface ReplayResult extends Scan {
  replayed: (DeadLetterSummary & { to: string })[];
  /** Matched but left in the dead-letter queue, with why. */
  skipped: (DeadLetterSummary & { why: string })[];
}

export interface PurgeResult extends Scan {
  purged: number;
}

export const DLQ_DEFAULT_LIST_COUNT = 50;

/** `notification` → `notification.dlq`; a full queue name is kept. */
export function deadLetterQueueName(serviceOrQueue: string): string {
  const name = serviceOrQueue.trim();
  if (!name) throw new Error('name a service (notification) or a queue (notification.dlq)');
  return name.endsWith('.dlq') ? name : deadLetterQueue(name);
}

/**
 * Reads, replays and deletes dead letters with plain AMQP. A command takes messages with
 * `basic.get` (manual ack) and settles each one it acts on; every other message it saw goes
 * back with a requeueing `basic.nack` at the end (and, should anything fail, when its channel
 * closes), in its place: https://www.rabbitmq.com/docs/confirms#consumer-nacks-requeue.
 * It reads at most as many messages as the queue held when it began, so what arrives
 * meanwhile (a replayed message that fails again) is not seen twice.
 */
export class DeadLetters {
  private readonly scanLimit: number;
  private readonly timeoutMs: number;
  private readonly publishTimeoutMs: number;

  private constructor(
    private readonly connection: ChannelModel,
    /** The broker user the tool connects as: replays carry it as `user_id`. */
    private readonly user: string,
    options: DeadLettersOptions,
  ) {
    this.scanLimit = options.scanLimit ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? Defaults.publishTimeoutMs;
  }

  static async connect(url: string, options: DeadLettersOptions = {}): Promise<DeadLetters> {
    const connection = await amqplib.connect(url, {
      noDelay: true,
      timeout: Defaults.connectTimeoutMs,
      clientProperties: { connection_name: `dlq-tool@${process.pid}` },
    });
    // A broker-side close also rejects the pending call, which reports it.
    connection.on('error', () => undefined);
    return new DeadLetters(connection, brokerUserOf([url]), options);
  }

  /** Messages ready in the queue (not those another client holds unacked). */
  async depth(serviceOrQueue: string): Promise<number> {
    const queue = deadLetterQueueName(serviceOrQueue);
    return this.withChannel(queue, async (ch) => (await ch.checkQueue(queue)).messageCount);
  }

  /** Summaries of the matching messages; every message stays where it was. */
  async list(serviceOrQueue: string, filter: DeadLetterFilter = {}): Promise<ListResult> {
    const messages: DeadLetterSummary[] = [];
    const scan = await this.scan(
      serviceOrQueue,
      filter,
      limitOf(filter, DLQ_DEFAULT_LIST_COUNT),
      async (_msg, summary) => {
        messages.push(summary);
      },
    );
    return { ...scan, messages };
  }

  /** The whole message, or undefined when no message in the queue has this id. */
  async show(serviceOrQueue: string, messageId: string): Promise<DeadLetter | undefined> {
    let found: DeadLetter | undefined;
    await this.scan(serviceOrQueue, { messageId }, 1, async (msg) => {
      found = describeDeadLetter(msg);
    });
    return found;
  }

  /**
   * Sends each matching message back to the queue it failed in, as it was before it failed
   * (`x-attempts` 0), through the service's own exchange (`<service>.dlx`): only into that
   * service's work queue, whatever its `x-original-queue` header names, and as the tool's own
   * broker user, whom the service trusts with its replays. The dead letter is acked only after
   * the broker confirmed the copy, so a crash in between leaves a duplicate (consumers dedupe),
   * never a loss.
   */
  async replay(serviceOrQueue: string, filter: DeadLetterFilter = {}): Promise<ReplayResult> {
    const replayed: ReplayResult['replayed'] = [];
    const skipped: ReplayResult['skipped'] = [];
    let returned = false;
    const scan = await this.scan(
      serviceOrQueue,
      filter,
      limitOf(filter, Number.POSITIVE_INFINITY),
      async (msg, summary, ch, queue) => {
        const target = replayTarget(msg, queue);
        if ('why' in target) {
          skipped.push({ ...summary, why: target.why });
          return;
        }
        returned = false;
        // `mandatory`: a queue that no longer exists returns the message before confirming it.
        await this.withTimeout(
          publishConfirmed(ch, target.exchange, target.to, msg.content, {
            ...replayProperties(msg.properties, target.arrival),
            userId: this.user,
            mandatory: true,
          }),
          `the broker to confirm ${summary.messageId ?? 'a message'} to ${target.to}`,
        );
        if (returned) {
          skipped.push({ ...summary, why: `queue ${target.to} does not exist` });
          return;
        }
        ch.ack(msg);
        replayed.push({ ...summary, to: target.to });
      },
      (ch) => ch.on('return', () => (returned = true)),
    );
    return { ...scan, replayed, skipped };
  }

  /** Deletes the matching messages; with no filter at all, the whole queue at once. */
  async purge(serviceOrQueue: string, filter: DeadLetterFilter = {}): Promise<PurgeResult> {
    const queue = deadLetterQueueName(serviceOrQueue);
    if (selectsAll(filter)) {
      const { messageCount } = await this.withChannel(queue, (ch) => ch.purgeQueue(queue));
      return { queue, scanned: messageCount, stoppedBy: 'end', purged: messageCount };
    }
    let purged = 0;
    const scan = await this.scan(
      queue,
      filter,
      limitOf(filter, Number.POSITIVE_INFINITY),
      async (msg, _summary, ch) => {
        ch.ack(msg);
        purged++;
      },
    );
    return { ...scan, purged };
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }

  /** `scanQueue` on a channel of its own, within the tool's bounds. */
  private async scan(
    serviceOrQueue: string,
    filter: DeadLetterFilter,
    limit: number,
    act: (
      msg: GetMessage,
      summary: DeadLetterSummary,
      ch: ConfirmChannel,
      queue: string,
    ) => Promise<void>,
    prepare: (ch: ConfirmChannel) => void = () => undefined,
  ): Promise<Scan> {
    const queue = deadLetterQueueName(serviceOrQueue);
    return this.withChannel(queue, async (ch) => {
      prepare(ch);
      const bounds = { limit, scanLimit: this.scanLimit, deadline: Date.now() + this.timeoutMs };
      const scanned = await scanQueue(ch, queue, filter, bounds, (msg, summary) =>
        act(msg, summary, ch, queue),
      );
      return { queue, ...scanned };
    });
  }

  private async withChannel<T>(queue: string, work: (ch: ConfirmChannel) => Promise<T>) {
    const ch = await this.connection.createConfirmChannel();
    // A channel error (e.g. 404) also rejects the call that caused it; that is what we report.
    ch.on('error', () => undefined);
    try {
      return await work(ch);
    } catch (error) {
      throw explain(error, queue);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  private withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${this.publishTimeoutMs} ms waiting for ${what}`)),
        this.publishTimeoutMs,
      );
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}

function explain(error: unknown, queue: string): unknown {
  if ((error as { code?: unknown })?.code === 404) {
    return new Error(`queue "${queue}" does not exist`, { cause: error });
  }
  return error;
}
