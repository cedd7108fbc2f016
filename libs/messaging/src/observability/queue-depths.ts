import type { ChannelWrapper } from 'amqp-connection-manager';
import type { AmqpConnection } from '../connection/amqp-connection.js';

export interface QueueDepth {
  queue: string;
  /** Ready messages (AMQP reports no unacked count; the management API does). */
  messages: number;
  consumers: number;
}

export interface QueueDepthOptions {
  /** A read slower than this returns what it has: a metrics scrape must never hang. */
  timeoutMs?: number;
  /** Reads within this time of the last one share its result. */
  cacheMs?: number;
}

/**
 * Reads queue depths with a passive `queue.declare` (`checkQueue`) on a channel of its own.
 * A missing queue makes the broker close that channel (404), so any failure drops the
 * channel and the next read opens a new one; the queues that answered are still returned.
 */
export class QueueDepths {
  private channel: ChannelWrapper | undefined;
  private last: { at: number; depths: Promise<QueueDepth[]> } | undefined;
  private readonly timeoutMs: number;
  private readonly cacheMs: number;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly queues: () => readonly string[],
    options: QueueDepthOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.cacheMs = options.cacheMs ?? 1_000;
  }

  read(): Promise<QueueDepth[]> {
    const now = Date.now();
    if (this.last && now - this.last.at < this.cacheMs) return this.last.depths;
    const depths = this.readNow();
    this.last = { at: now, depths };
    return depths;
  }

  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  private async readNow(): Promise<QueueDepth[]> {
    const queues = this.queues();
    if (queues.length === 0 || !this.connection.isConnected()) return [];
    const depths: QueueDepth[] = [];
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
    });
    const check = async () => {
      const channel = (this.channel ??= this.connection.createChannel({
        name: `${this.connection.service}-queue-depths`,
        confirm: false,
      }));
      await channel.waitForConnect();
      for (const queue of queues) {
        const { messageCount, consumerCount } = await channel.checkQueue(queue);
        depths.push({ queue, messages: messageCount, consumers: consumerCount });
      }
    };
    try {
      const outcome = await Promise.race([check(), timedOut]);
      if (outcome === 'timeout') await this.close();
    } catch {
      await this.close();
    } finally {
      clearTimeout(timer);
    }
    return [...depths];
  }
}
