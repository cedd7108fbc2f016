import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { CreateChannelOpts } from 'amqp-connection-manager';
import type { ConsumeMessage, Options } from 'amqplib';
import type { AmqpConnection } from '../connection/amqp-connection.js';
import { RpcCancelledError, RpcError, RpcTimeoutError, RpcUnavailableError } from '../errors.js';
import { RpcCaller } from './rpc-caller.js';

interface Published {
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

type OnMessage = (msg: ConsumeMessage | null) => void;

/** The part of an amqplib (non-confirm) Channel the caller uses. */
class FakeChannel extends EventEmitter {
  readonly published: Published[] = [];
  consumer: { queue: string; options: Options.Consume | undefined } | undefined;
  /** Makes `publish()` throw, as amqplib does once the channel is closing or closed. */
  closedUnderUs = false;
  private onMessage: OnMessage | undefined;

  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish) {
    if (this.closedUnderUs) throw new Error('Channel closed');
    this.published.push({ exchange, routingKey, content, options });
    return true;
  }

  async consume(queue: string, onMessage: OnMessage, options?: Options.Consume) {
    this.consumer = { queue, options };
    this.onMessage = onMessage;
    return { consumerTag: 'amq.ctag-test' };
  }

  /** The broker delivers a reply on the direct reply-to pseudo-queue. */
  reply(correlationId: string, body: unknown): void {
    const content = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    this.onMessage!({
      content,
      fields: { routingKey: 'amq.rabbitmq.reply-to.x', exchange: '' },
      properties: { correlationId, headers: {} },
    } as unknown as ConsumeMessage);
  }

  /** The broker returns a `mandatory` message that no queue took (basic.return). */
  returnRequest(request: Published): void {
    this.emit('return', {
      content: request.content,
      fields: {
        replyCode: 312,
        replyText: 'NO_ROUTE',
        exchange: '',
        routingKey: request.routingKey,
      },
      properties: request.options,
    });
  }

  correlationIds(): string[] {
    return this.published.map((p) => p.options.correlationId as string);
  }
}

/** An AmqpConnection whose channel "connects" when the test runs the remembered setup. */
function fakeConnection() {
  const created: CreateChannelOpts[] = [];
  const closeWrapper = jest.fn(async () => {});
  const connection = {
    createChannel(opts: CreateChannelOpts) {
      created.push(opts);
      return { on() {}, close: closeWrapper };
    },
  } as unknown as AmqpConnection;
  const connect = async (channel: FakeChannel) => {
    const setup = created[0]?.setup as ((ch: unknown) => Promise<void>) | undefined;
    await setup!(channel);
  };
  return { connection, created, connect, closeWrapper };
}

type Outcome =
  | { status: 'pending' }
  | { status: 'resolved'; value: unknown }
  | { status: 'rejected'; error: unknown };

/** Records how a call settled, so a test can check it has not (yet). */
function watch(promise: Promise<unknown>): { readonly outcome: Outcome } {
  const state: { outcome: Outcome } = { outcome: { status: 'pending' } };
  promise.then(
    (value) => (state.outcome = { status: 'resolved', value }),
    (error: unknown) => (state.outcome = { status: 'rejected', error }),
  );
  return state;
}

const settle = () => jest.advanceTimersByTimeAsync(0);
const TIMEOUT_MS = 5_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('RpcCaller', () => {
  let broker: ReturnType<typeof fakeConnection>;
  let caller: RpcCaller;

  const reserve = (timeoutMs = TIMEOUT_MS, requestId?: string) =>
    watch(caller.call('inventory.reserve', 2, { orderId: 'o-1' }, timeoutMs, requestId));

  /** Connects a fresh channel and sends one call on it. */
  async function callOnLiveChannel() {
    const ch = new FakeChannel();
    await broker.connect(ch);
    const call = reserve();
    const id = ch.correlationIds()[0]!;
    return { ch, call, id };
  }

  beforeEach(() => {
    jest.useFakeTimers();
    broker = fakeConnection();
    caller = new RpcCaller(broker.connection, { appId: 'order', userId: 'order' });
  });

  afterEach(async () => {
    await caller.close();
    jest.useRealTimers();
  });

  it('opens a non-confirm channel and consumes direct reply-to without acks', async () => {
    expect(broker.created).toHaveLength(1);
    expect(broker.created[0]).toMatchObject({ name: 'order-rpc-client', confirm: false });

    const ch = new FakeChannel();
    await broker.connect(ch);
    expect(ch.consumer).toEqual({ queue: 'amq.rabbitmq.reply-to', options: { noAck: true } });
  });

  it('sends a call made before the channel is ready once setup runs, exactly once', async () => {
    const call = reserve();
    await settle();
    expect(call.outcome).toEqual({ status: 'pending' });

    const ch = new FakeChannel();
    await broker.connect(ch);

    expect(ch.published).toHaveLength(1);
    const [request] = ch.published;
    expect(request).toMatchObject({ exchange: '', routingKey: 'inventory.rpc' });
    expect(JSON.parse(request!.content.toString())).toEqual({ orderId: 'o-1' });
    expect(request!.options).toMatchObject({
      replyTo: 'amq.rabbitmq.reply-to',
      mandatory: true,
      persistent: false,
      type: 'inventory.reserve',
      appId: 'order',
      contentType: 'application/json',
      expiration: String(TIMEOUT_MS),
    });
    expect(request!.options.headers).toEqual({ 'x-message-version': 2 });
    expect(request!.options.correlationId).toMatch(UUID);
    expect(request!.options.messageId).toBe(request!.options.correlationId);

    // A reconnect runs setup again: the call is not sent a second time.
    const next = new FakeChannel();
    await broker.connect(next);
    expect(next.published).toEqual([]);
  });

  it('sends at once on a live channel, each call with its own correlation id', async () => {
    const ch = new FakeChannel();
    await broker.connect(ch);

    reserve();
    reserve();

    expect(ch.published).toHaveLength(2);
    const [first, second] = ch.correlationIds();
    expect(first).not.toBe(second);
  });

  it('resolves with the data of an ok reply', async () => {
    const { ch, call, id } = await callOnLiveChannel();

    ch.reply(id, { ok: true, data: { reservationId: 'r-1' } });
    await settle();

    expect(call.outcome).toEqual({ status: 'resolved', value: { reservationId: 'r-1' } });
  });

  it('rejects with an RpcError carrying the code, message and details of an error reply', async () => {
    const { ch, call, id } = await callOnLiveChannel();

    ch.reply(id, {
      ok: false,
      error: {
        code: 'INVENTORY.OUT_OF_STOCK',
        message: 'sku-1 is out of stock',
        details: { sku: 'sku-1' },
      },
    });
    await settle();

    expect(call.outcome).toEqual({ status: 'rejected', error: expect.any(RpcError) });
    const { error } = call.outcome as { error: RpcError };
    expect(error).toMatchObject({
      code: 'INVENTORY.OUT_OF_STOCK',
      message: 'sku-1 is out of stock',
      details: { sku: 'sku-1' },
    });
  });

  it.each([
    ['a body that is not JSON', '{"ok":true,'],
    ['JSON that is not a reply', { hello: 'world' }],
    ['an ok reply without data', { ok: true }],
    ['an error reply without a code', { ok: false, error: { message: 'boom' } }],
  ])('rejects with INVALID_REPLY on %s', async (_, body) => {
    const { ch, call, id } = await callOnLiveChannel();

    ch.reply(id, body);
    await settle();

    expect(call.outcome).toEqual({ status: 'rejected', error: expect.any(RpcError) });
    expect((call.outcome as { error: RpcError }).error.code).toBe('INVALID_REPLY');
  });

  it('ignores a reply whose correlation id it does not know', async () => {
    const { ch, call, id } = await callOnLiveChannel();

    expect(() => ch.reply('someone-else', { ok: true, data: 'not yours' })).not.toThrow();
    expect(() => ch.reply('someone-else', 'not even JSON')).not.toThrow();
    await settle();
    expect(call.outcome).toEqual({ status: 'pending' });

    ch.reply(id, { ok: true, data: 'yours' });
    await settle();
    expect(call.outcome).toEqual({ status: 'resolved', value: 'yours' });
  });

  it('fails with RpcUnavailableError when the broker returns its request', async () => {
    const { ch, call } = await callOnLiveChannel();
    const other = reserve();

    ch.returnRequest(ch.published[0]!);
    await settle();

    expect(call.outcome).toEqual({ status: 'rejected', error: expect.any(RpcUnavailableError) });
    expect((call.outcome as { error: RpcError }).error.code).toBe('RPC_UNAVAILABLE');
    expect(other.outcome).toEqual({ status: 'pending' });
  });

  it('fails with RpcTimeoutError after the timeout, and a late reply changes nothing', async () => {
    const { ch, call, id } = await callOnLiveChannel();

    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 1);
    expect(call.outcome).toEqual({ status: 'pending' });
    await jest.advanceTimersByTimeAsync(1);
    expect(call.outcome).toEqual({ status: 'rejected', error: expect.any(RpcTimeoutError) });
    const { error } = call.outcome as { error: RpcError };
    expect(error.code).toBe('RPC_TIMEOUT');
    expect(error.message).toBe(`inventory.reserve got no reply within ${TIMEOUT_MS} ms`);

    expect(() => ch.reply(id, { ok: true, data: 'too late' })).not.toThrow();
    expect(() => ch.reply(id, 'too late, and broken')).not.toThrow();
    await settle();
    expect(call.outcome).toEqual({ status: 'rejected', error });
  });

  it('times out each call at its own deadline, a shorter one made later first', async () => {
    const ch = new FakeChannel();
    await broker.connect(ch);
    const long = reserve(TIMEOUT_MS);
    const short = reserve(1_000);

    await jest.advanceTimersByTimeAsync(1_000);
    expect(short.outcome).toEqual({ status: 'rejected', error: expect.any(RpcTimeoutError) });
    expect((short.outcome as { error: Error }).error.message).toContain('within 1000 ms');
    expect(long.outcome).toEqual({ status: 'pending' });

    await jest.advanceTimersByTimeAsync(TIMEOUT_MS - 1_000 - 1);
    expect(long.outcome).toEqual({ status: 'pending' });
    await jest.advanceTimersByTimeAsync(1);
    expect(long.outcome).toEqual({ status: 'rejected', error: expect.any(RpcTimeoutError) });
  });

  it('does not send a call that timed out while waiting for the channel', async () => {
    const expired = reserve(1_000);
    const alive = reserve(TIMEOUT_MS);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(expired.outcome).toEqual({ status: 'rejected', error: expect.any(RpcTimeoutError) });

    const ch = new FakeChannel();
    await broker.connect(ch);

    expect(ch.published).toHaveLength(1);
    expect(ch.published[0]!.options.expiration).toBe(String(TIMEOUT_MS - 1_000));
    expect(alive.outcome).toEqual({ status: 'pending' });
  });

  it('sets expiration to the time left when a call goes out late, and never below 1 ms', async () => {
    reserve(TIMEOUT_MS);
    await jest.advanceTimersByTimeAsync(1_200);
    const ch = new FakeChannel();
    await broker.connect(ch);
    expect(ch.published[0]!.options.expiration).toBe('3800');

    // The clock passes the deadline before the timeout timer has had a chance to run.
    const next = new FakeChannel();
    ch.emit('close');
    reserve(TIMEOUT_MS);
    jest.setSystemTime(jest.now() + TIMEOUT_MS + 500);
    await broker.connect(next);
    expect(next.published[0]!.options.expiration).toBe('1');
  });

  it('puts the request id in the x-request-id header when one is given', async () => {
    const ch = new FakeChannel();
    await broker.connect(ch);

    reserve(TIMEOUT_MS, 'req-42');

    expect(ch.published[0]!.options.headers).toEqual({
      'x-request-id': 'req-42',
      'x-message-version': 2,
    });
  });

  it('waits for the next channel after its channel closes', async () => {
    const first = new FakeChannel();
    await broker.connect(first);
    first.emit('close');

    const call = reserve();
    expect(first.published).toEqual([]);

    const second = new FakeChannel();
    await broker.connect(second);
    expect(second.published).toHaveLength(1);

    second.reply(second.correlationIds()[0]!, { ok: true, data: 1 });
    await settle();
    expect(call.outcome).toEqual({ status: 'resolved', value: 1 });
  });

  it('keeps a call for the next channel when publish throws because the channel closed', async () => {
    const first = new FakeChannel();
    await broker.connect(first);
    first.closedUnderUs = true;

    const call = reserve();
    const second = new FakeChannel();
    await broker.connect(second);

    expect(second.published).toHaveLength(1);
    expect(call.outcome).toEqual({ status: 'pending' });
  });

  it('rejects every pending call on close and closes its channel', async () => {
    const waiting = reserve();
    const ch = new FakeChannel();
    await broker.connect(ch);
    const sent = reserve();
    const later = reserve();
    ch.emit('close');

    await caller.close();
    await settle();

    for (const call of [waiting, sent, later]) {
      expect(call.outcome).toEqual({ status: 'rejected', error: expect.any(RpcUnavailableError) });
    }
    expect(broker.closeWrapper).toHaveBeenCalledTimes(1);

    // A reconnect after close sends nothing that was waiting.
    const next = new FakeChannel();
    await broker.connect(next);
    expect(next.published).toEqual([]);
  });

  it('fails a call with a malformed pattern at once without dropping the live channel', async () => {
    const ch = new FakeChannel();
    await broker.connect(ch);

    const bad = watch(caller.call('noservice', 1, {}, TIMEOUT_MS));
    reserve();
    await settle();

    expect(ch.published.map((p) => p.routingKey)).toEqual(['inventory.rpc']);
    expect(bad.outcome.status).toBe('rejected');
  });

  it('gives a call up when its signal aborts: rejected at once, a late reply and its deadline ignored', async () => {
    const ch = new FakeChannel();
    await broker.connect(ch);
    const abort = new AbortController();
    const call = watch(
      caller.call('inventory.reserve', 1, {}, TIMEOUT_MS, undefined, undefined, abort.signal),
    );
    const id = ch.correlationIds()[0]!;

    abort.abort();
    await settle();
    expect(call.outcome).toEqual({ status: 'rejected', error: expect.any(RpcCancelledError) });

    ch.reply(id, { ok: true, data: 'late' });
    await jest.advanceTimersByTimeAsync(TIMEOUT_MS * 2);
    expect(call.outcome).toEqual({ status: 'rejected', error: expect.any(RpcCancelledError) });
  });

  it('never sends a call given up while it waited for a channel', async () => {
    const abort = new AbortController();
    const call = watch(
      caller.call('inventory.reserve', 1, {}, TIMEOUT_MS, undefined, undefined, abort.signal),
    );
    abort.abort();
    const ch = new FakeChannel();
    await broker.connect(ch);
    await settle();

    expect(ch.published).toEqual([]);
    expect(call.outcome).toEqual({ status: 'rejected', error: expect.any(RpcCancelledError) });
  });
});
