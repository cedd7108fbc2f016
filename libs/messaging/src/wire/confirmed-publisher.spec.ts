import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { ConfirmChannel, Options } from 'amqplib';
import { ConfirmedPublisher, PublishTimeoutError } from './confirmed-publisher.js';

type ConfirmCallback = (err: Error | null) => void;

interface Sent {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

/**
 * The part of an amqplib ConfirmChannel the publisher uses. Confirm callbacks are kept until
 * the test acks or nacks; `close()` fails every unconfirmed one before emitting 'close', in
 * the order amqplib does (its own 'close' listener is registered first). The error's text is
 * not amqplib's: the publisher must tell a lost confirm from a nack by the channel's events.
 */
class FakeConfirmChannel extends EventEmitter {
  readonly sent: Sent[] = [];
  /** What `publish()` returns: false means "wait for 'drain'". */
  writable = true;
  private readonly callbacks: (ConfirmCallback | null)[] = [];

  constructor() {
    super();
    // As amqplib's channel does, from its constructor: closing fails what is unconfirmed.
    this.on('close', () => {
      const err = new Error('connection reset');
      for (const cb of this.callbacks.splice(0)) cb?.(err);
    });
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
    cb: ConfirmCallback,
  ): boolean {
    this.sent.push({ exchange, routingKey, content, options });
    this.callbacks.push(cb);
    return this.writable;
  }

  /** Bodies in the order they reached this channel. */
  get bodies(): string[] {
    return this.sent.map((s) => s.content.toString());
  }

  ack(index: number): void {
    this.confirm(index, null);
  }

  nack(index: number): void {
    this.confirm(index, new Error('message nacked'));
  }

  drain(): void {
    this.writable = true;
    this.emit('drain');
  }

  close(): void {
    this.emit('close');
  }

  private confirm(index: number, err: Error | null): void {
    const cb = this.callbacks[index];
    if (!cb) throw new Error(`message ${index} is not awaiting a confirm`);
    this.callbacks[index] = null;
    cb(err);
  }
}

function asChannel(fake: FakeConfirmChannel): ConfirmChannel {
  return fake as unknown as ConfirmChannel;
}

type Outcome =
  { status: 'pending' } | { status: 'resolved' } | { status: 'rejected'; error: unknown };

/** Records how a publish settled, so a test can check it has not (yet). */
function watch(promise: Promise<void>): { readonly outcome: Outcome } {
  const state: { outcome: Outcome } = { outcome: { status: 'pending' } };
  promise.then(
    () => (state.outcome = { status: 'resolved' }),
    (error: unknown) => (state.outcome = { status: 'rejected', error }),
  );
  return state;
}

const TIMEOUT_MS = 5_000;
const OPTIONS: Options.Publish = { persistent: true, messageId: 'm-1' };

/** Let settled promises run their callbacks. */
const settle = () => jest.advanceTimersByTimeAsync(0);

describe('ConfirmedPublisher', () => {
  let publisher: ConfirmedPublisher;

  const publish = (body: string) =>
    watch(publisher.publish('events', 'order.created', Buffer.from(body), OPTIONS));

  beforeEach(() => {
    jest.useFakeTimers();
    publisher = new ConfirmedPublisher(TIMEOUT_MS, () => jest.now());
  });

  afterEach(() => {
    publisher.close();
    jest.useRealTimers();
  });

  it('writes straight to the live channel and resolves only when the broker acks', async () => {
    const ch = new FakeConfirmChannel();
    publisher.attach(asChannel(ch));

    const a = publish('a');
    expect(ch.sent).toEqual([
      {
        exchange: 'events',
        routingKey: 'order.created',
        content: Buffer.from('a'),
        options: OPTIONS,
      },
    ]);
    await settle();
    expect(a.outcome).toEqual({ status: 'pending' });
    expect(publisher.pending).toBe(1);

    ch.ack(0);
    await settle();
    expect(a.outcome).toEqual({ status: 'resolved' });
    expect(publisher.pending).toBe(0);
  });

  it('rejects when the broker nacks', async () => {
    const ch = new FakeConfirmChannel();
    publisher.attach(asChannel(ch));
    const a = publish('a');

    ch.nack(0);
    await settle();

    expect(a.outcome).toEqual({ status: 'rejected', error: new Error('message nacked') });
    expect(publisher.pending).toBe(0);
  });

  it('holds messages published before a channel is attached and sends them in order on attach', async () => {
    const a = publish('a');
    const b = publish('b');
    const c = publish('c');
    expect(publisher.pending).toBe(3);

    const ch = new FakeConfirmChannel();
    publisher.attach(asChannel(ch));
    const d = publish('d');
    expect(ch.bodies).toEqual(['a', 'b', 'c', 'd']);
    await settle();
    expect([a, b, c, d].map((p) => p.outcome.status)).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
    ]);

    for (let i = 0; i < 4; i++) ch.ack(i);
    await settle();
    expect([a, b, c, d].map((p) => p.outcome.status)).toEqual([
      'resolved',
      'resolved',
      'resolved',
      'resolved',
    ]);
    expect(publisher.pending).toBe(0);
  });

  it("holds later messages after publish() returns false, until the channel's 'drain'", () => {
    const ch = new FakeConfirmChannel();
    publisher.attach(asChannel(ch));
    ch.writable = false;

    publish('a');
    publish('b');
    publish('c');
    expect(ch.bodies).toEqual(['a']);
    expect(publisher.pending).toBe(3);

    // The buffer is still full: the first write after 'drain' asks to wait again.
    ch.emit('drain');
    expect(ch.bodies).toEqual(['a', 'b']);

    ch.drain();
    expect(ch.bodies).toEqual(['a', 'b', 'c']);
    expect(publisher.pending).toBe(3);
  });

  it('sends unconfirmed messages again on the next channel and resolves them when acked there', async () => {
    const first = new FakeConfirmChannel();
    publisher.attach(asChannel(first));
    const a = publish('a');
    const b = publish('b');
    first.ack(0);

    first.close();
    const c = publish('c'); // no channel now: waits
    await settle();
    expect(a.outcome).toEqual({ status: 'resolved' });
    expect(b.outcome).toEqual({ status: 'pending' });
    expect(publisher.pending).toBe(2);
    expect(first.bodies).toEqual(['a', 'b']);

    const second = new FakeConfirmChannel();
    publisher.attach(asChannel(second));
    expect(second.bodies).toEqual(['b', 'c']);

    second.ack(0);
    second.ack(1);
    await settle();
    expect(b.outcome).toEqual({ status: 'resolved' });
    expect(c.outcome).toEqual({ status: 'resolved' });
    expect(publisher.pending).toBe(0);
  });

  it("ignores 'drain' from a channel it no longer uses", () => {
    const first = new FakeConfirmChannel();
    first.writable = false;
    publisher.attach(asChannel(first));
    publish('a');
    first.close();

    const second = new FakeConfirmChannel();
    second.writable = false;
    publisher.attach(asChannel(second));
    expect(second.bodies).toEqual(['a']);
    publish('b');

    first.emit('drain');
    expect(first.bodies).toEqual(['a']);
    expect(second.bodies).toEqual(['a']);

    second.drain();
    expect(second.bodies).toEqual(['a', 'b']);
  });

  it("keeps using the new channel when a replaced channel's 'close' arrives late", () => {
    const first = new FakeConfirmChannel();
    publisher.attach(asChannel(first));
    const second = new FakeConfirmChannel();
    publisher.attach(asChannel(second));

    first.close();
    publish('a');

    expect(second.bodies).toEqual(['a']);
    expect(first.bodies).toEqual([]);
  });

  it('rejects a message still waiting for a channel with PublishTimeoutError, and never sends it', async () => {
    const a = publish('a');

    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(a.outcome).toEqual({ status: 'pending' });

    await jest.advanceTimersByTimeAsync(1);
    expect(a.outcome).toEqual({ status: 'rejected', error: expect.any(PublishTimeoutError) });
    expect(publisher.pending).toBe(0);

    const ch = new FakeConfirmChannel();
    publisher.attach(asChannel(ch));
    expect(ch.sent).toEqual([]);
  });

  it('rejects a message waiting behind back-pressure once it is too old', async () => {
    const ch = new FakeConfirmChannel();
    ch.writable = false;
    publisher.attach(asChannel(ch));
    publish('a');
    const b = publish('b');

    await jest.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(b.outcome).toEqual({ status: 'rejected', error: expect.any(PublishTimeoutError) });

    ch.drain();
    expect(ch.bodies).toEqual(['a']);
  });

  it('rejects a sent message the broker never confirms, and a late confirm changes nothing', async () => {
    const ch = new FakeConfirmChannel();
    publisher.attach(asChannel(ch));
    const a = publish('a');

    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(a.outcome).toEqual({ status: 'pending' });
    await jest.advanceTimersByTimeAsync(1);
    expect(a.outcome).toEqual({ status: 'rejected', error: expect.any(PublishTimeoutError) });
    const { error } = a.outcome as { error: Error };
    expect(error.message).toBe(`the broker did not confirm the publish within ${TIMEOUT_MS} ms`);
    expect(publisher.pending).toBe(0);

    ch.ack(0);
    await settle();
    expect(a.outcome).toEqual({ status: 'rejected', error });
    expect(publisher.pending).toBe(0);
  });

  it('tells once per sweep that the broker left sent messages unconfirmed', async () => {
    const heard: Error[] = [];
    const watched = new ConfirmedPublisher(
      TIMEOUT_MS,
      () => jest.now(),
      (e) => heard.push(e),
    );
    const ch = new FakeConfirmChannel();
    watched.attach(asChannel(ch));
    const sent = ['a', 'b'].map((body) =>
      watch(watched.publish('events', 'x', Buffer.from(body), OPTIONS)),
    );

    await jest.advanceTimersByTimeAsync(TIMEOUT_MS);
    watched.close();

    expect(sent.map((p) => p.outcome)).toEqual([
      { status: 'rejected', error: expect.any(PublishTimeoutError) },
      { status: 'rejected', error: expect.any(PublishTimeoutError) },
    ]);
    expect(heard.map((e) => e.message)).toEqual([
      `the broker did not confirm 2 publishes within ${TIMEOUT_MS} ms`,
    ]);
  });

  it('does not call a broker silent for messages that never left (no channel)', async () => {
    const heard: Error[] = [];
    const unattached = new ConfirmedPublisher(
      TIMEOUT_MS,
      () => jest.now(),
      (e) => heard.push(e),
    );
    const waiting = watch(unattached.publish('events', 'x', Buffer.from('a'), OPTIONS));

    await jest.advanceTimersByTimeAsync(TIMEOUT_MS);
    unattached.close();

    expect(waiting.outcome).toEqual({ status: 'rejected', error: expect.any(PublishTimeoutError) });
    expect(heard).toEqual([]);
  });

  it('does not send a timed-out message again when its channel closes', async () => {
    const first = new FakeConfirmChannel();
    publisher.attach(asChannel(first));
    publish('a');
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS);

    first.close();
    const second = new FakeConfirmChannel();
    publisher.attach(asChannel(second));

    expect(second.sent).toEqual([]);
    expect(publisher.pending).toBe(0);
  });

  it('rejects every waiting and unconfirmed message on close, and stops its sweeper', async () => {
    const ch = new FakeConfirmChannel();
    ch.writable = false;
    publisher.attach(asChannel(ch));
    const sent = publish('a');
    const waiting = publish('b');
    const unattached = new ConfirmedPublisher(TIMEOUT_MS, () => jest.now());
    const early = watch(unattached.publish('events', 'x', Buffer.from('c'), OPTIONS));
    expect(jest.getTimerCount()).toBe(2);

    publisher.close();
    unattached.close();
    await settle();

    const closed = { status: 'rejected', error: new Error('publisher closed') };
    expect(sent.outcome).toEqual(closed);
    expect(waiting.outcome).toEqual(closed);
    expect(early.outcome).toEqual(closed);
    expect(publisher.pending).toBe(0);
    expect(unattached.pending).toBe(0);
    expect(jest.getTimerCount()).toBe(0);

    ch.ack(0);
    await settle();
    expect(sent.outcome).toEqual(closed);
  });

  it('counts waiting and sent messages as pending until each one settles', async () => {
    const ch = new FakeConfirmChannel();
    publisher.attach(asChannel(ch));
    publish('a');
    publish('b');
    ch.writable = false;
    publish('c'); // sent; the socket now asks to wait
    publish('d'); // waits
    expect(publisher.pending).toBe(4);

    ch.ack(0);
    expect(publisher.pending).toBe(3);
    ch.nack(1);
    expect(publisher.pending).toBe(2);
    ch.drain();
    expect(publisher.pending).toBe(2);
    ch.close(); // c and d go back to waiting
    expect(publisher.pending).toBe(2);
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(publisher.pending).toBe(0);
  });

  it('re-sends unconfirmed messages ahead of newer ones that were still waiting', () => {
    const first = new FakeConfirmChannel();
    first.writable = false;
    publisher.attach(asChannel(first));
    publish('a'); // sent, socket full
    publish('b'); // waits for 'drain'
    first.close();

    const second = new FakeConfirmChannel();
    publisher.attach(asChannel(second));

    expect(second.bodies).toEqual(['a', 'b']);
  });
});
