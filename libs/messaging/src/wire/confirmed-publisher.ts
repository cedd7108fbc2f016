import type { ConfirmChannel, Options } from 'amqplib';

interface Pending {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
  deadline: number;
  settled: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A publish the broker did not confirm within the publish timeout. */
export class PublishTimeoutError extends Error {
  constructor(timeoutMs: number, count = 1) {
    super(
      count === 1
        ? `the broker did not confirm the publish within ${timeoutMs} ms`
        : `the broker did not confirm ${count} publishes within ${timeoutMs} ms`,
    );
    this.name = 'PublishTimeoutError';
  }
}

/**
 * Publishes with confirms straight onto the live channel, pipelined: each publish resolves
 * when the broker acks it and rejects when it nacks. While there is no channel (reconnecting)
 * or the socket asks to slow down, messages wait here in order; when a channel closes with
 * messages unconfirmed, they are sent again on the next one (at least once: consumers
 * deduplicate by message_id). Nothing waits longer than `timeoutMs`: past it, the publish
 * fails loudly so the caller (e.g. the outbox) can retry, and `onUnconfirmed` hears that the
 * broker took messages without confirming them: a node cut off from its cluster does that
 * (it neither confirms nor nacks), so the connection is better replaced than trusted.
 */
export class ConfirmedPublisher {
  private channel: ConfirmChannel | undefined;
  private writable = true;
  private backlog: Pending[] = [];
  /** Sent on a channel that closed before confirming: they go out again first, in order. */
  private resend: Pending[] = [];
  private readonly unconfirmed = new Set<Pending>();
  /** Channels that emitted 'close': what failed on one of them was lost, not refused. */
  private readonly closed = new WeakSet<ConfirmChannel>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number = Date.now,
    /** Once per sweep that expired messages sent on a live channel. */
    private readonly onUnconfirmed: (error: PublishTimeoutError) => void = () => {},
  ) {
    this.sweeper = setInterval(() => this.expire(), Math.min(timeoutMs, 1_000));
    this.sweeper.unref();
  }

  /** Hand over each new channel (from the channel's setup on every (re)connect). */
  attach(channel: ConfirmChannel): void {
    this.channel = channel;
    if (this.resend.length > 0) {
      this.backlog = [...this.resend, ...this.backlog];
      this.resend = [];
    }
    this.writable = true;
    channel.on('drain', () => {
      if (this.channel !== channel) return;
      this.writable = true;
      this.flush();
    });
    // Ahead of amqplib's own 'close' listener, which fails the unconfirmed callbacks: they
    // then find the channel marked closed.
    channel.prependOnceListener('close', () => {
      this.closed.add(channel);
      if (this.channel === channel) this.channel = undefined;
    });
    this.flush();
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        exchange,
        routingKey,
        content,
        options,
        deadline: this.now() + this.timeoutMs,
        settled: false,
        resolve,
        reject,
      };
      if (this.channel && this.writable && this.backlog.length === 0) this.write(pending);
      else this.backlog.push(pending);
    });
  }

  /** How long the oldest message sent and not yet confirmed has waited (0: none). */
  get unconfirmedForMs(): number {
    const oldest = this.unconfirmed.values().next().value;
    return oldest ? Math.max(0, this.now() - (oldest.deadline - this.timeoutMs)) : 0;
  }

  /** Messages not yet confirmed (waiting or sent). */
  get pending(): number {
    return this.backlog.length + this.resend.length + this.unconfirmed.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    const error = new Error('publisher closed');
    for (const p of [...this.resend, ...this.backlog, ...this.unconfirmed]) settle(p, error);
    this.backlog = [];
    this.resend = [];
    this.unconfirmed.clear();
  }

  private flush(): void {
    while (this.channel && this.writable && this.backlog.length > 0)
      this.write(this.backlog.shift()!);
  }

  private write(p: Pending): void {
    const channel = this.channel!;
    this.unconfirmed.add(p);
    try {
      this.writable = channel.publish(p.exchange, p.routingKey, p.content, p.options, (err) => {
        this.unconfirmed.delete(p);
        if (p.settled) return;
        if (!err) return settle(p);
        // Lost when its channel closed: it may or may not have arrived, so it goes again.
        // On an open channel the error is the broker's nack.
        if (this.closed.has(channel)) this.resend.push(p);
        else settle(p, err instanceof Error ? err : new Error(String(err)));
      });
    } catch {
      // The channel closed between our check and the write (amqplib throws synchronously).
      this.unconfirmed.delete(p);
      this.channel = undefined;
      this.backlog.unshift(p);
    }
  }

  private expire(): void {
    const now = this.now();
    const expired = (p: Pending) => p.deadline <= now;
    for (const p of [...this.backlog, ...this.resend]) {
      if (expired(p)) settle(p, new PublishTimeoutError(this.timeoutMs));
    }
    this.backlog = this.backlog.filter((p) => !p.settled);
    this.resend = this.resend.filter((p) => !p.settled);
    let unconfirmed = 0;
    for (const p of this.unconfirmed) {
      if (expired(p)) {
        this.unconfirmed.delete(p);
        settle(p, new PublishTimeoutError(this.timeoutMs));
        unconfirmed++;
      }
    }
    if (unconfirmed > 0) this.onUnconfirmed(new PublishTimeoutError(this.timeoutMs, unconfirmed));
  }
}

function settle(p: Pending, error?: Error): void {
  if (p.settled) return;
  p.settled = true;
  if (error) p.reject(error);
  else p.resolve();
}
