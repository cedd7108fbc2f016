import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeadLetters } from '@app/dead-letters';
import { AmqpClient, AmqpConnection, resolveMessagingOptions } from '@app/messaging';
import { EventProbe, RabbitAdmin, waitFor, withVhost } from '@app/messaging/testing';
import { testEnv } from '../support/env.js';
import {
  PriceChangedV1,
  PriceChangedV2,
  QuoteV1,
  QuoteV2,
  Received,
  startPricingApp,
} from './evolution-app.js';

/**
 * docs/contracts.md, demonstrated: producers and consumers of different versions of one
 * message, side by side on one broker, as during a rolling deployment.
 */
describe('contract evolution', () => {
  const admin = new RabbitAdmin(testEnv.managementUrl);
  const apps = new Map<string, INestApplication>();
  let vhost: string;
  let url: string;
  let connection: AmqpConnection;
  let client: AmqpClient;
  let probe: EventProbe;

  /** `pricing` answers the RPC; `reports` is a second consuming service of the event. */
  async function deploy(service: 'pricing' | 'reports', generation: 1 | 2): Promise<Received> {
    await apps.get(service)?.close();
    const app = await startPricingApp(generation, { urls: url, service, retry: { delaysMs: [] } });
    apps.set(service, app);
    return app.get(Received);
  }

  const seen = (received: Received, sku: string) =>
    waitFor(`an event for ${sku}`, () =>
      received.events.find((e) => (e.payload as { sku: string }).sku === sku),
    );

  beforeAll(async () => {
    vhost = await admin.createVhost('test-evolution');
    url = withVhost(testEnv.rabbitUrl, vhost);
    const options = resolveMessagingOptions({ urls: url, service: 'catalog' });
    connection = new AmqpConnection(options);
    client = new AmqpClient(connection, options);
    probe = await EventProbe.start(url, []);
  });

  afterAll(async () => {
    await probe?.close();
    await client?.close();
    await connection?.onApplicationShutdown();
    for (const app of apps.values()) await app.close();
    await admin.deleteVhost(vhost);
  });

  describe('events', () => {
    let upgraded: Received;
    let legacy: Received;

    beforeAll(async () => {
      upgraded = await deploy('pricing', 2);
      legacy = await deploy('reports', 1);
    });

    it('a v1 producer reaches the v1 consumer and the consumer that accepts v1 and v2', async () => {
      const sku = `SKU-${randomUUID()}`;
      await client.publishEvent(PriceChangedV1, { sku, amount: 12.5 });

      expect(await seen(upgraded, sku)).toEqual({ version: 1, payload: { sku, amount: 12.5 } });
      expect(await seen(legacy, sku)).toEqual({ version: 1, payload: { sku, amount: 12.5 } });
    });

    it('a v2 producer that still fills the v1 fields reaches both: v2 as v2, v1 as v1', async () => {
      const sku = `SKU-${randomUUID()}`;
      const v2 = { sku, amountCents: 1250, currency: 'EUR', amount: 12.5 } as const;
      await client.publishEvent(PriceChangedV2, v2);

      expect(await seen(upgraded, sku)).toEqual({ version: 2, payload: v2 });
      // The v1 consumer reads the v1 fields and ignores the rest (a tolerant reader).
      expect(await seen(legacy, sku)).toEqual({ version: 2, payload: { sku, amount: 12.5 } });
    });

    it('a v2 event a v1 consumer cannot read waits in its DLQ, and is handled after its upgrade', async () => {
      const sku = `SKU-${randomUUID()}`;
      const messageId = randomUUID();
      const v2 = { sku, amountCents: 990, currency: 'USD' };
      await client.publishRaw({ type: PriceChangedV2.name, version: 2, messageId }, v2);

      expect(await seen(upgraded, sku)).toEqual({ version: 2, payload: v2 });
      const dlq = await DeadLetters.connect(url);
      try {
        const dead = await waitFor('the event in reports.dlq', async () => {
          const { messages } = await dlq.list('reports', { messageId });
          return messages[0];
        });
        expect(dead).toMatchObject({ reason: 'invalid', attempts: 0 });
        expect(dead.error).toContain(
          'catalog.price-changed v2 (read as v1) failed validation: amount',
        );
        expect(legacy.events.some((e) => (e.payload as { sku: string }).sku === sku)).toBe(false);

        legacy = await deploy('reports', 2);
        expect((await dlq.replay('reports', { messageId })).replayed).toHaveLength(1);
      } finally {
        await dlq.close();
      }
      expect(await seen(legacy, sku)).toEqual({ version: 2, payload: v2 });
    });
  });

  describe('RPC', () => {
    it('a server that accepts v1 and v2 answers each caller in its own version', async () => {
      await deploy('pricing', 2);

      await expect(client.request(QuoteV1, { sku: 'MUG-1' })).resolves.toEqual({
        sku: 'MUG-1',
        amount: 12.5,
      });
      await expect(client.request(QuoteV2, { sku: 'MUG-1', currency: 'USD' })).resolves.toEqual({
        sku: 'MUG-1',
        amountCents: 1250,
        currency: 'USD',
      });
    });

    it('a v2 caller ahead of a v1 server fails loudly instead of misreading the answer', async () => {
      await deploy('pricing', 1);

      await expect(client.request(QuoteV1, { sku: 'MUG-1' })).resolves.toEqual({
        sku: 'MUG-1',
        amount: 12.5,
      });
      await expect(
        client.request(QuoteV2, { sku: 'MUG-1', currency: 'EUR' }),
      ).rejects.toMatchObject({ code: 'INVALID_REPLY' });
    });
  });
});
