import { randomUUID } from 'node:crypto';
import { type INestApplication, Logger, type LoggerService } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import { RmqRecord } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import {
  AmqpClient,
  AmqpConnection,
  AmqpContext,
  AmqpServer,
  ContractViolationError,
  deadLetterQueue,
  EVENTS_EXCHANGE,
  eventsQueue,
  MessageContext,
  MessagingObservers,
  resolveMessagingOptions,
  RpcError,
  RpcTimeoutError,
  rpcQueue,
} from '@app/messaging';
import { EventProbe, RabbitAdmin, waitFor, withVhost } from '@app/messaging/testing';
import { testEnv } from '../support/env.js';
import {
  probeContracts,
  ProbeEcho,
  ProbeRefuse,
  ProbeSlow,
  Recorder,
  startProbeApp,
} from './transport-app.js';

const PREFETCH = 4;

/** Nest log lines from now until stop(), each with the correlation id in context when logged. */
function captureLogs() {
  const previous = (Logger as unknown as { staticInstanceRef?: LoggerService }).staticInstanceRef;
  const lines: { message: string; correlationId: string | undefined }[] = [];
  const record = (message: unknown) =>
    lines.push({ message: String(message), correlationId: MessageContext.correlationId() });
  Logger.overrideLogger({ log: record, warn: record, error: record });
  return { lines, stop: () => Logger.overrideLogger(previous ?? ['error']) };
}

describe('the AMQP transport', () => {
  const admin = new RabbitAdmin(testEnv.managementUrl);
  let vhost: string;
  let app: INestApplication;
  let recorder: Recorder;
  let connection: AmqpConnection;
  let client: AmqpClient;
  let raw: ChannelModel;
  let ch: Channel;
  let probe: EventProbe;
  /** How the app's deliveries ended (`<queue> <outcome>` → count), as its transport reports. */
  const outcomes = new Map<string, number>();
  const acked = () => outcomes.get(`${eventsQueue('probe')} acked`) ?? 0;
  let appClosed = false;

  beforeAll(async () => {
    vhost = await admin.createVhost('test-transport');
    const url = withVhost(testEnv.rabbitUrl, vhost);
    app = await startProbeApp({
      urls: url,
      service: 'probe',
      prefetch: PREFETCH,
      retry: { immediate: 1, delaysMs: [100, 300] },
    });
    recorder = app.get(Recorder);
    app.get(MessagingObservers).add({
      consuming: (info) => ({
        run: (work) => work(),
        end: (outcome) => {
          const key = `${info.queue} ${outcome}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        },
      }),
    });
    const clientOptions = resolveMessagingOptions({
      urls: url,
      service: 'caller',
      contracts: probeContracts,
    });
    connection = new AmqpConnection(clientOptions);
    client = new AmqpClient(connection, clientOptions);
    raw = await amqplib.connect(url);
    ch = await raw.createChannel();
    probe = await EventProbe.start(url, []);
  });

  afterAll(async () => {
    await probe?.close();
    await raw?.close();
    await client?.close();
    await connection?.onApplicationShutdown();
    if (!appClosed) await app?.close();
    await admin.deleteVhost(vhost);
  });

  /** A request in plain amqplib, as a client in any language would send it. */
  async function rawRpc(body: Buffer, properties: { type?: string } = {}) {
    // Direct reply-to allows one reply consumer per channel: a channel per call.
    const rpc = await raw.createChannel();
    try {
      const correlationId = randomUUID();
      const reply = new Promise<{ body: any; correlationId: string }>((resolve) => {
        void rpc.consume(
          'amq.rabbitmq.reply-to',
          (msg) =>
            msg &&
            resolve({
              body: JSON.parse(msg.content.toString()),
              correlationId: msg.properties.correlationId,
            }),
          { noAck: true },
        );
      });
      rpc.sendToQueue(rpcQueue('probe'), body, {
        replyTo: 'amq.rabbitmq.reply-to',
        correlationId,
        contentType: 'application/json',
        messageId: randomUUID(),
        // The broker user the connection authenticated as: consumers check who sent what.
        userId: probe.user,
        ...properties,
      });
      const answer = await reply;
      expect(answer.correlationId).toBe(correlationId);
      return answer.body;
    } finally {
      await rpc.close();
    }
  }

  const takeDeadLetter = (marker: string) => probe.take(deadLetterQueue('probe'), marker);

  describe('RPC', () => {
    it('answers a typed request and a plain Nest send(), past a global HTTP guard that refuses everything', async () => {
      expect(await client.request(ProbeEcho, { text: 'hi' })).toEqual({ text: 'hi' });
      expect(await firstValueFrom(client.send('probe.echo', { text: 'nest' }))).toEqual({
        text: 'nest',
      });
    });

    it('gives a call up when its send() subscriber unsubscribes: reported cancelled, the circuit not charged, the late reply ignored', async () => {
      const seen: string[] = [];
      const observers = new MessagingObservers();
      observers.add({
        rpcCompleted: (pattern, _ms, outcome) => seen.push(`${pattern} ${outcome}`),
      });
      const options = resolveMessagingOptions({
        urls: withVhost(testEnv.rabbitUrl, vhost),
        service: 'caller',
        contracts: probeContracts,
        // One charged failure would open it.
        circuitBreaker: { failureThreshold: 1, cooldownMs: 60_000 },
      });
      const caller = new AmqpClient(connection, options, observers);
      try {
        let settled = false;
        const subscription = caller
          .send('probe.slow', { delayMs: 500 })
          .subscribe({ next: () => (settled = true), error: () => (settled = true) });
        await new Promise((resolve) => setTimeout(resolve, 100));
        subscription.unsubscribe();
        await waitFor('the call to be reported cancelled', () => seen.length > 0);
        await new Promise((resolve) => setTimeout(resolve, 700)); // the reply came and went
        expect(seen).toEqual(['probe.slow cancelled']);
        expect(settled).toBe(false);
        expect(caller.circuits()).toEqual({ probe: 'closed' });
        expect(await caller.request(ProbeEcho, { text: 'after' })).toEqual({ text: 'after' });
      } finally {
        await caller.close();
      }
    });

    it("checks a plain send() against its pattern's contract before anything is sent", async () => {
      const invalid = await firstValueFrom(client.send('probe.echo', { text: '' })).catch(
        (e: unknown) => e,
      );
      expect(invalid).toBeInstanceOf(ContractViolationError);
      const unknown = await firstValueFrom(client.send('probe.nothing', {})).catch(
        (e: unknown) => e,
      );
      expect(unknown).toMatchObject({ code: 'UNKNOWN_MESSAGE' });
    });

    it('sends the headers of an RmqRecord and of dispatch-hook metadata with the request', async () => {
      client.setOnDispatchHook((packet) => {
        packet.metadata = { 'x-tenant': 'acme' };
      });
      try {
        const record = new RmqRecord({}, { headers: { 'x-locale': 'fr' } });
        const headers = await firstValueFrom(client.send('probe.headers', record));
        expect(headers).toMatchObject({
          'x-tenant': 'acme',
          'x-locale': 'fr',
          'x-message-version': 1,
        });
      } finally {
        client.setOnDispatchHook(() => undefined);
      }
    });

    it("runs handlers between Nest's processing hooks, the end hook once the reply is known", async () => {
      const server = app.get(AmqpServer);
      const hooks: string[] = [];
      server.setOnProcessingStartHook((_transport, context, done) => {
        hooks.push(`start ${(context as AmqpContext).meta.type}`);
        return done();
      });
      server.setOnProcessingEndHook((_transport, context) => {
        hooks.push(`end ${(context as AmqpContext).meta.type}`);
      });
      try {
        expect(await client.request(ProbeEcho, { text: 'hooked' })).toEqual({ text: 'hooked' });
        expect(hooks).toEqual(['start probe.echo', 'end probe.echo']);
      } finally {
        server.setOnProcessingStartHook((_transport, _context, done) => done());
        server.setOnProcessingEndHook(() => undefined);
      }
    });

    it('speaks plain JSON with reply_to and correlation_id to a client without Nest', async () => {
      const reply = await rawRpc(Buffer.from(JSON.stringify({ text: 'raw' })), {
        type: 'probe.echo',
      });
      expect(reply).toEqual({ ok: true, data: { text: 'raw' } });
    });

    it('answers bad requests with an error reply and keeps serving', async () => {
      expect(await rawRpc(Buffer.from('{not json'), { type: 'probe.echo' })).toMatchObject({
        ok: false,
        error: { code: 'BAD_REQUEST' },
      });
      expect(await rawRpc(Buffer.from('{}'), { type: 'probe.nothing' })).toMatchObject({
        ok: false,
        error: { code: 'UNKNOWN_MESSAGE' },
      });
      const invalid = await rawRpc(Buffer.from(JSON.stringify({ text: '' })), {
        type: 'probe.echo',
      });
      expect(invalid).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
      expect(invalid.error.details.issues[0].path).toBe('text');
      expect(await client.request(ProbeEcho, { text: 'still here' })).toEqual({
        text: 'still here',
      });
    });

    it("carries a handler's domain error code to the caller", async () => {
      const error = await client.request(ProbeRefuse, {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RpcError);
      expect(error).toMatchObject({ code: 'PROBE.REFUSED', message: 'refused on purpose' });
    });

    it('times out with a typed error when the answer comes too late', async () => {
      const error = await client
        .request(ProbeSlow, { delayMs: 1_000 }, { timeoutMs: 100 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RpcTimeoutError);
      expect(error).toMatchObject({ code: 'RPC_TIMEOUT' });
    });
  });

  describe('events', () => {
    const publish = (payload: object, properties: Record<string, unknown> = {}) =>
      ch.publish(
        EVENTS_EXCHANGE,
        'probe.happened',
        Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload)),
        {
          messageId: randomUUID(),
          type: 'probe.happened',
          contentType: 'application/json',
          persistent: true,
          userId: probe.user,
          ...properties,
        },
      );

    it('handles an emitted event and acks it', async () => {
      const id = randomUUID();
      const before = acked();
      await firstValueFrom(client.emit('probe.happened', { id }), { defaultValue: undefined });
      await waitFor('the event to be handled', () => recorder.handled.find((h) => h.id === id));
      await waitFor('its delivery to be acked', () => acked() === before + 1);
      expect(await probe.queue(eventsQueue('probe'))).toEqual({ ready: 0, consumers: 1 });
    });

    it('retries a failing handler through the delay tiers until it succeeds', async () => {
      const id = randomUUID();
      publish({ id, failTimes: 3 });
      const handled = await waitFor('the retried event to succeed', () =>
        recorder.handled.find((h) => h.id === id),
      );
      // 2 tries per delivery (1 immediate retry): rounds 0 and 1 failed 3 times, the 4th try won.
      expect(recorder.attempts.get(id)).toBe(4);
      expect(handled.attemptsHeader).toBe(1);
    });

    it('waits each delay tier before the next delivery, within tolerance', async () => {
      const id = randomUUID();
      publish({ id, failTimes: 5 });
      await waitFor('the event to succeed on its sixth try', () =>
        recorder.handled.find((h) => h.id === id),
      );
      const t = recorder.triedAt.get(id)!;
      expect(t).toHaveLength(6); // 2 tries per delivery: at once, after 100 ms, after 300 ms
      const gap = (from: number) => t[from + 1]! - t[from]!;
      expect(gap(1)).toBeGreaterThanOrEqual(90);
      expect(gap(1)).toBeLessThan(100 + 1_000);
      expect(gap(3)).toBeGreaterThanOrEqual(290);
      expect(gap(3)).toBeLessThan(300 + 1_000);
    });

    it('dead-letters a message that keeps failing, with the error metadata, while others flow', async () => {
      const bad = randomUUID();
      const good = randomUUID();
      const logged = captureLogs();
      publish({ id: bad, failTimes: 100 }, { correlationId: 'corr-bad' });
      publish({ id: good });
      await waitFor('the good event', () => recorder.handled.find((h) => h.id === good));

      const dead = await takeDeadLetter(bad);
      logged.stop();
      // Every retry and the dead-letter line are logged in the message's context.
      const lines = logged.lines.filter((l) => l.message.includes(dead.properties.messageId));
      expect(lines.map((l) => l.message)).toEqual([
        expect.stringContaining('retrying in 100 ms'),
        expect.stringContaining('retrying in 300 ms'),
        expect.stringContaining('dead-lettered (retries-exhausted)'),
      ]);
      expect(lines.map((l) => l.correlationId)).toEqual(['corr-bad', 'corr-bad', 'corr-bad']);
      expect(JSON.parse(dead.content.toString())).toMatchObject({ id: bad });
      expect(dead.properties).toMatchObject({ type: 'probe.happened', correlationId: 'corr-bad' });
      expect(dead.properties.headers).toMatchObject({
        'x-death-reason': 'retries-exhausted',
        'x-attempts': 3,
        'x-original-queue': 'probe.events',
        'x-original-routing-key': 'probe.happened',
        'x-service': 'probe',
        'x-error-message': expect.stringContaining('transient failure'),
        'x-failed-at': expect.any(String),
      });
      // 3 deliveries (first + 2 tiers) × 2 tries each.
      expect(recorder.attempts.get(bad)).toBe(6);
    });

    it("follows a handler's own retry policy instead of the service's", async () => {
      const id = randomUUID();
      ch.publish(EVENTS_EXCHANGE, 'probe.stubborn', Buffer.from(JSON.stringify({ id })), {
        messageId: randomUUID(),
        type: 'probe.stubborn',
        persistent: true,
        userId: probe.user,
      });
      const dead = await takeDeadLetter(id);
      // No immediate retry, one 50 ms tier: two tries in all.
      expect(recorder.attempts.get(id)).toBe(2);
      expect(dead.properties.headers).toMatchObject({
        'x-death-reason': 'retries-exhausted',
        'x-attempts': 2,
      });
      expect(await admin.queue(vhost, 'probe.events.retry.50ms')).toBeDefined();
    });

    it('dead-letters a PermanentError at once, without retries', async () => {
      const id = randomUUID();
      publish({ id, permanent: true });
      const dead = await takeDeadLetter(id);
      expect(dead.properties.headers).toMatchObject({ 'x-death-reason': 'rejected' });
      expect(recorder.attempts.get(id)).toBe(1);
    });

    it('dead-letters poison messages at once with the reason, and keeps consuming', async () => {
      const notJson = randomUUID();
      publish(Buffer.from(`not json ${notJson}`));
      const unknown = randomUUID();
      publish({ id: unknown }, { type: 'probe.unheard-of' });
      const invalid = randomUUID();
      publish({ id: invalid, failTimes: 'many' });

      expect((await takeDeadLetter(notJson)).properties.headers).toMatchObject({
        'x-death-reason': 'malformed',
      });
      expect((await takeDeadLetter(unknown)).properties.headers).toMatchObject({
        'x-death-reason': 'unknown-type',
      });
      const rejected = await takeDeadLetter(invalid);
      expect(rejected.properties.headers).toMatchObject({ 'x-death-reason': 'invalid' });
      expect(rejected.properties.headers!['x-error-message']).toContain('failTimes');
      expect(recorder.attempts.has(unknown) || recorder.attempts.has(invalid)).toBe(false);

      const after = randomUUID();
      publish({ id: after });
      await waitFor('an event after the poison', () =>
        recorder.handled.find((h) => h.id === after),
      );
    });

    it('never has more unacked deliveries than the prefetch', async () => {
      recorder.maxInProgress = 0;
      const ids = Array.from({ length: PREFETCH * 4 }, () => randomUUID());
      for (const id of ids) publish({ id, holdMs: 100 });
      await waitFor(
        'all held events',
        () => ids.every((id) => recorder.handled.some((h) => h.id === id)),
        { timeoutMs: 20_000 },
      );
      expect(recorder.maxInProgress).toBe(PREFETCH);
    });

    it('acks every delivery exactly once, however out of order its handlers finish', async () => {
      // Handlers finish out of order (holds of 0–59 ms) and some retry, in place or through a
      // delay queue. Batched acks must neither lose one (the queue would keep it unacked) nor
      // aim a multiple ack at a tag the broker no longer holds (it would close the channel,
      // and redelivered messages would run a second time).
      const failTimes = (i: number) => (i % 7 === 0 ? 2 : i % 5 === 0 ? 1 : 0);
      const ids = Array.from({ length: 40 }, () => randomUUID());
      ids.forEach((id, i) => publish({ id, holdMs: (i * 37) % 60, failTimes: failTimes(i) }));

      await waitFor(
        'every event handled',
        () => ids.every((id) => recorder.handled.some((h) => h.id === id)),
        { timeoutMs: 20_000 },
      );
      // Nothing left unacked: once the consumers stop (acks held for a batch go out first),
      // a delivery never acked would be back in the queue, ready.
      appClosed = true;
      await app.close();
      const queue = await waitFor('the consumers to be gone', async () => {
        const q = await probe.queue(eventsQueue('probe'));
        return q.consumers === 0 && q;
      });
      expect(queue.ready).toBe(0);
      ids.forEach((id, i) => {
        expect(recorder.handled.filter((h) => h.id === id)).toHaveLength(1);
        // One try per failure (immediate retries: 1), plus the one that succeeded.
        expect(recorder.attempts.get(id)).toBe(failTimes(i) + 1);
      });
    });
  });
});
