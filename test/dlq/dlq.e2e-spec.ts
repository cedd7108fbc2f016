import { randomUUID } from 'node:crypto';
import { type INestApplication, Logger } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import { DeadLetters } from '@app/dead-letters';
import {
  deadLetterQueue,
  declareServiceTopology,
  EVENTS_EXCHANGE,
  eventsQueue,
} from '@app/messaging';
import { EventProbe, RabbitAdmin, waitFor, withVhost } from '@app/messaging/testing';
import { main, type Io } from '../../tools/dlq.js';
import { startProbeApp } from '../messaging/transport-app.js';
import { testEnv } from '../support/env.js';

const PROBE_DLQ = deadLetterQueue('probe');
const PROBE_EVENTS = eventsQueue('probe');
/** A service whose consumer rejects without requeue, so RabbitMQ dead-letters with `x-death`. */
const LEGACY = 'legacy';
/** Like LEGACY, but its consumer keeps running: whatever is replayed comes straight back. */
const BOUNCER = 'bouncer';

/** One dead letter per scenario, so tests never depend on what another one did. */
const seed = {
  exhausted: randomUUID(),
  rejected: randomUUID(),
  replayById: randomUUID(),
  invalid: randomUUID(),
  replayMe: [randomUUID(), randomUUID()],
  keepMe: randomUUID(),
  purgeMe: [randomUUID(), randomUUID()],
  cli: randomUUID(),
  noOrigin: randomUUID(),
  queueGone: randomUUID(),
  legacy: randomUUID(),
  bouncing: Array.from({ length: 5 }, () => randomUUID()),
};

describe('the dead-letter queue tool', () => {
  const admin = new RabbitAdmin(testEnv.managementUrl);
  let vhost: string;
  let url: string;
  let app: INestApplication | undefined;
  let raw: ChannelModel;
  let ch: Channel;
  let probe: EventProbe;
  let dlq: DeadLetters;

  const depth = async (queue: string) => (await ch.checkQueue(queue)).messageCount;

  /** An event as our services publish it; the probe app's handler decides how it fails. */
  const publishEvent = (id: string, body: object, type = 'probe.happened') =>
    probe.publishEvent(type, body, {
      routingKey: 'probe.happened',
      messageId: id,
      correlationId: `corr-${id}`,
    });

  beforeAll(async () => {
    vhost = await admin.createVhost('test-dlq');
    url = withVhost(testEnv.rabbitUrl, vhost);
    raw = await amqplib.connect(url);
    ch = await raw.createChannel();
    probe = await EventProbe.start(url, []);

    // The real failure path: the probe service consumes, fails, retries once through a
    // 50 ms delay queue and dead-letters with FailureHandler's headers (which it logs: muted).
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    app = await startProbeApp({
      urls: url,
      service: 'probe',
      retry: { immediate: 0, delaysMs: [50] },
    });
    await publishEvent(seed.exhausted, { id: seed.exhausted, failTimes: 100 });
    await publishEvent(seed.rejected, { id: seed.rejected, permanent: true });
    await publishEvent(seed.replayById, { id: seed.replayById, failTimes: 100 });
    await publishEvent(seed.invalid, { id: seed.invalid, failTimes: 'many' });
    for (const id of seed.replayMe) await publishEvent(id, { id }, 'probe.replay-me');
    await publishEvent(seed.keepMe, { id: seed.keepMe }, 'probe.keep-me');
    for (const id of seed.purgeMe) await publishEvent(id, { id }, 'probe.purge-me');
    await publishEvent(seed.cli, { id: seed.cli }, 'probe.cli-me');
    await waitFor('every seeded event in the DLQ', async () => (await depth(PROBE_DLQ)) === 10);
    // From here on nothing consumes probe.events, so a replayed message stays there to inspect.
    await app.close();
    app = undefined;
    logged.mockRestore();

    // Dead-lettered by hand, without any failure headers: nobody knows where it came from.
    await probe.publish('', PROBE_DLQ, { id: seed.noOrigin }, { messageId: seed.noOrigin });
    // Failed in a queue that has been deleted since.
    await probe.publish(
      '',
      PROBE_DLQ,
      { id: seed.queueGone },
      {
        messageId: seed.queueGone,
        headers: { 'x-death-reason': 'rejected', 'x-original-queue': 'retired.events' },
      },
    );

    // Dead-lettered by the broker: a consumer rejects it without requeue.
    await declareServiceTopology(ch, {
      service: LEGACY,
      queueType: 'classic',
      rpc: false,
      eventBindings: ['legacy.happened'],
      retryDelaysMs: [],
    });
    await probe.publish(
      EVENTS_EXCHANGE,
      'legacy.happened',
      { id: seed.legacy },
      { messageId: seed.legacy, type: 'legacy.happened', persistent: true },
    );
    const delivery = await waitFor('the legacy event', () => ch.get(eventsQueue(LEGACY)));
    ch.nack(delivery, false, false);
    await waitFor('the broker to dead-letter it', async () => {
      return (await depth(deadLetterQueue(LEGACY))) === 1;
    });

    await declareServiceTopology(ch, {
      service: BOUNCER,
      queueType: 'classic',
      rpc: false,
      eventBindings: ['bouncer.happened'],
      retryDelaysMs: [],
    });
    await ch.consume(eventsQueue(BOUNCER), (msg) => msg && ch.nack(msg, false, false));
    for (const id of seed.bouncing) {
      await probe.publish(EVENTS_EXCHANGE, 'bouncer.happened', { id }, { messageId: id });
    }
    await waitFor('the bounced events in their DLQ', async () => {
      return (await depth(deadLetterQueue(BOUNCER))) === seed.bouncing.length;
    });

    dlq = await DeadLetters.connect(url);
  });

  afterAll(async () => {
    await dlq?.close();
    await probe?.close();
    await raw?.close().catch(() => undefined);
    await app?.close();
    await admin.deleteVhost(vhost);
  });

  describe('list', () => {
    it('shows why each message failed without taking anything out of the queue', async () => {
      const before = await depth(PROBE_DLQ);

      const listed = await dlq.list('probe');

      const byId = new Map(listed.messages.map((m) => [m.messageId, m]));
      expect(byId.get(seed.exhausted)).toMatchObject({
        type: 'probe.happened',
        reason: 'retries-exhausted',
        error: `transient failure 2 of ${seed.exhausted}`,
        attempts: 2,
        originalQueue: PROBE_EVENTS,
        service: 'probe',
        correlationId: `corr-${seed.exhausted}`,
        deadLetteredBy: 'service',
        failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      expect(byId.get(seed.rejected)).toMatchObject({
        reason: 'rejected',
        attempts: 1,
        error: expect.stringContaining('can never succeed'),
      });
      expect(byId.get(seed.invalid)).toMatchObject({ reason: 'invalid', attempts: 0 });
      expect(listed).toMatchObject({ queue: PROBE_DLQ, stoppedBy: 'end', scanned: before });

      await waitFor(
        'the listed messages to be back',
        async () => (await depth(PROBE_DLQ)) === before,
      );
      const again = await dlq.list(PROBE_DLQ);
      expect(again.messages.map((m) => m.messageId)).toEqual(
        listed.messages.map((m) => m.messageId),
      );
    });

    it('filters by type and by reason, and stops at the count', async () => {
      const byType = await dlq.list('probe', { type: 'probe.keep-me' });
      const byReason = await dlq.list('probe', { reason: 'invalid' });
      const firstTwo = await dlq.list('probe', { count: 2 });

      expect(byType.messages.map((m) => m.messageId)).toEqual([seed.keepMe]);
      expect(byType.messages[0]).toMatchObject({ reason: 'unknown-type' });
      expect(byReason.messages.map((m) => m.messageId)).toEqual([seed.invalid]);
      expect(firstTwo.messages).toHaveLength(2);
      expect(firstTwo.stoppedBy).toBe('count');
    });

    it('says when the queue does not exist', async () => {
      await expect(dlq.list('nobody')).rejects.toThrow('queue "nobody.dlq" does not exist');
    });
  });

  describe('show', () => {
    it('gives the whole message: properties, headers and the decoded body', async () => {
      const message = await dlq.show('probe', seed.exhausted);

      expect(message).toMatchObject({
        properties: {
          messageId: seed.exhausted,
          type: 'probe.happened',
          correlationId: `corr-${seed.exhausted}`,
          contentType: 'application/json',
        },
        headers: {
          'x-message-version': 1,
          'x-death-reason': 'retries-exhausted',
          'x-original-queue': PROBE_EVENTS,
          'x-original-exchange': EVENTS_EXCHANGE,
          'x-original-routing-key': 'probe.happened',
        },
        body: { id: seed.exhausted, failTimes: 100 },
        bodyFormat: 'json',
      });
      // It went through the delay queue, whose expiry the broker recorded.
      expect(message?.headers['x-death']).toEqual([
        expect.objectContaining({ reason: 'expired', time: expect.any(String) }),
      ]);
      expect(await dlq.show('probe', seed.exhausted)).toBeDefined();
    });

    it('finds nothing for an id that is not there', async () => {
      expect(await dlq.show('probe', randomUUID())).toBeUndefined();
    });
  });

  describe('replay', () => {
    it('puts a message back on its original queue as it was before it failed', async () => {
      const before = await dlq.show('probe', seed.replayById);
      expect(before?.headers).toHaveProperty('x-death');

      const result = await dlq.replay('probe', { messageId: seed.replayById });

      expect(result.replayed.map((m) => [m.messageId, m.to])).toEqual([
        [seed.replayById, PROBE_EVENTS],
      ]);
      const back = await probe.take(PROBE_EVENTS, seed.replayById);
      expect(JSON.parse(back.content.toString())).toEqual({ id: seed.replayById, failTimes: 100 });
      expect(back.properties).toMatchObject({
        messageId: seed.replayById,
        type: 'probe.happened',
        correlationId: `corr-${seed.replayById}`,
        contentType: 'application/json',
        deliveryMode: 2,
        // Published as the tool's own broker user, whom the service trusts with replays.
        userId: probe.user,
      });
      expect(back.fields.exchange).toBe('probe.dlx');
      const headers = back.properties.headers!;
      expect(headers['x-attempts']).toBe(0);
      expect(headers['x-original-queue']).toBe(PROBE_EVENTS);
      for (const gone of [
        'x-death-reason',
        'x-error-message',
        'x-failed-at',
        'x-service',
        'x-death',
      ])
        expect(headers).not.toHaveProperty(gone);
      expect(await dlq.show('probe', seed.replayById)).toBeUndefined();
      expect(await dlq.show('probe', seed.exhausted)).toBeDefined();
    });

    it('replays only the messages of the type asked for', async () => {
      const result = await dlq.replay('probe', { type: 'probe.replay-me' });

      expect(result.replayed.map((m) => m.messageId).sort()).toEqual([...seed.replayMe].sort());
      for (const id of seed.replayMe) await probe.take(PROBE_EVENTS, id);
      expect((await dlq.list('probe', { type: 'probe.replay-me' })).messages).toEqual([]);
      expect((await dlq.list('probe', { type: 'probe.keep-me' })).messages).toHaveLength(1);
    });

    it('leaves a message whose original queue is unknown where it is, and says so', async () => {
      const result = await dlq.replay('probe', { messageId: seed.noOrigin });

      expect(result.replayed).toEqual([]);
      expect(result.skipped).toEqual([
        expect.objectContaining({
          messageId: seed.noOrigin,
          why: expect.stringContaining('unknown'),
        }),
      ]);
      expect(await dlq.show('probe', seed.noOrigin)).toBeDefined();
    });

    it("leaves a message whose x-original-queue is not the service's own where it is", async () => {
      // Any publisher can write that header: naming another service's queue gets nowhere.
      const result = await dlq.replay('probe', { messageId: seed.queueGone });

      expect(result.replayed).toEqual([]);
      expect(result.skipped).toEqual([
        expect.objectContaining({
          why: 'it names retired.events, not probe.events: replays stay in probe',
        }),
      ]);
      expect(await dlq.show('probe', seed.queueGone)).toBeDefined();
    });

    it('replays each message once even when it fails again at once', async () => {
      const result = await dlq.replay(BOUNCER);

      expect(result.replayed.map((m) => m.messageId).sort()).toEqual([...seed.bouncing].sort());
      expect(result.stoppedBy).toBe('end');
      await waitFor('every replayed message to bounce back', async () => {
        return (await depth(deadLetterQueue(BOUNCER))) === seed.bouncing.length;
      });
    });

    it('sends a message the broker dead-lettered back to the queue in its x-death header', async () => {
      const [listed] = (await dlq.list(LEGACY)).messages;
      expect(listed).toMatchObject({
        messageId: seed.legacy,
        type: 'legacy.happened',
        reason: 'rejected',
        originalQueue: eventsQueue(LEGACY),
        deadLetteredBy: 'broker',
      });

      const result = await dlq.replay(LEGACY);

      expect(result.replayed.map((m) => m.to)).toEqual([eventsQueue(LEGACY)]);
      const back = await probe.take(eventsQueue(LEGACY), seed.legacy);
      // How it first arrived, from the broker's x-death and the user_id it kept: what the
      // consumer judges the copy by.
      expect(back.properties.headers).toEqual({
        'x-attempts': 0,
        'x-original-exchange': 'events',
        'x-original-routing-key': 'legacy.happened',
        'x-original-user-id': probe.user,
      });
      expect(await depth(deadLetterQueue(LEGACY))).toBe(0);
    });
  });

  describe('purge', () => {
    it('deletes the matching messages and keeps the others', async () => {
      const before = await depth(PROBE_DLQ);

      const result = await dlq.purge('probe', { type: 'probe.purge-me' });

      expect(result.purged).toBe(2);
      expect((await dlq.list('probe', { type: 'probe.purge-me' })).messages).toEqual([]);
      expect((await dlq.list('probe', { type: 'probe.keep-me' })).messages).toHaveLength(1);
      await waitFor(
        'the queue to hold the rest',
        async () => (await depth(PROBE_DLQ)) === before - 2,
      );
    });
  });

  describe('the command line', () => {
    async function dlqCommand(...argv: string[]) {
      const out: string[] = [];
      const err: string[] = [];
      const io: Io = {
        out: (text) => out.push(text),
        err: (text) => err.push(text),
        // Several URLs, as the services take them: the tool uses the first.
        env: { RABBITMQ_URL: `${url},amqp://unused.invalid` },
      };
      const code = await main(argv, io);
      return { code, out: out.join('\n'), err: err.join('\n') };
    }

    it('lists as a table, or as JSON with --json', async () => {
      const table = await dlqCommand('list', 'probe', '--type', 'probe.cli-me');
      const json = await dlqCommand('list', 'probe.dlq', '--type', 'probe.cli-me', '--json');

      expect(table.code).toBe(0);
      expect(table.out).toMatch(/MESSAGE ID\s+TYPE\s+REASON/);
      expect(table.out).toContain(seed.cli);
      expect(table.out).toContain('unknown-type');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.out).messages).toEqual([
        expect.objectContaining({ messageId: seed.cli, type: 'probe.cli-me' }),
      ]);
    });

    it('refuses to purge without --yes, saying how many would go, and purges with it', async () => {
      const refused = await dlqCommand('purge', 'probe', '--type', 'probe.cli-me');

      expect(refused.code).toBe(2);
      expect(refused.err).toContain('would delete 1 message(s) from probe.dlq');
      expect(await dlq.show('probe', seed.cli)).toBeDefined();

      const purged = await dlqCommand('purge', 'probe', '--type', 'probe.cli-me', '--yes');

      expect(purged.code).toBe(0);
      expect(purged.out).toContain('deleted 1 message(s)');
      expect(await dlq.show('probe', seed.cli)).toBeUndefined();
    });

    it('fails with 1 when a message cannot be replayed or the queue is missing', async () => {
      const skipped = await dlqCommand('replay', 'probe', '--id', seed.noOrigin);
      const missing = await dlqCommand('list', 'nobody');

      expect(skipped.code).toBe(1);
      expect(skipped.out).toContain(`left ${seed.noOrigin} in probe.dlq`);
      expect(missing.code).toBe(1);
      expect(missing.err).toContain('"nobody.dlq" does not exist');
    });

    it('answers a usage error with 2 and the usage', async () => {
      for (const argv of [
        [],
        ['frobnicate', 'probe'],
        ['list'],
        ['list', 'probe', '--count', '0'],
        ['list', 'probe', '--nope'],
        ['show', 'probe'],
        ['replay', 'probe', '--yes'],
      ]) {
        const run = await dlqCommand(...argv);
        expect({ argv, code: run.code }).toEqual({ argv, code: 2 });
        expect(run.err).toContain('usage: npm run dlq');
      }
    });
  });
});
