import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OrderCreated } from '@app/contracts';
import {
  addOutboxHeaders,
  AmqpClient,
  AmqpConnection,
  createOutboxTable,
  Outbox,
  resolveMessagingOptions,
} from '@app/messaging';
import { EventProbe, RabbitAdmin, waitFor, withVhost } from '@app/messaging/testing';
import { createDatabase, migrateToLatest } from '@app/platform';
import type { Kysely } from 'kysely';
import { createTestDatabase } from '../support/database.js';
import { testEnv } from '../support/env.js';

const SCHEMA = 'outbox_test';

describe('the transactional outbox', () => {
  const admin = new RabbitAdmin(testEnv.managementUrl);
  let vhost: string;
  let url: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Kysely<any>;
  let probe: EventProbe;
  const relays: {
    outbox: Outbox;
    client: AmqpClient;
    connection: AmqpConnection;
    pool: Kysely<any>;
  }[] = [];

  beforeAll(async () => {
    vhost = await admin.createVhost('test-outbox');
    url = withVhost(testEnv.rabbitUrl, vhost);
    database = await createTestDatabase('outbox');
    db = createDatabase({ url: database.url, schema: SCHEMA });
    await migrateToLatest(db, SCHEMA, {
      '001': { up: createOutboxTable },
      '002': { up: addOutboxHeaders },
    });
    probe = await EventProbe.start(url, ['order.created']);
  });

  afterAll(async () => {
    for (const r of relays) {
      await r.outbox.stop();
      await r.client.close();
      await r.connection.onApplicationShutdown();
      await r.pool.destroy();
    }
    await probe?.close();
    await db?.destroy();
    await database?.drop();
    await admin.deleteVhost(vhost);
  });

  /** A relay as a service replica runs it: its own broker connection and database pool. */
  function startRelay(pollIntervalMs = 100): Outbox {
    const options = resolveMessagingOptions({ urls: url, service: `relay-${relays.length}` });
    const connection = new AmqpConnection(options);
    const client = new AmqpClient(connection, options);
    const pool = createDatabase({ url: database.url, schema: SCHEMA });
    const outbox = new Outbox(pool, client, { batchSize: 25, pollIntervalMs });
    relays.push({ outbox, client, connection, pool });
    outbox.start();
    return outbox;
  }

  const event = (orderId: string) => ({
    orderId,
    customerEmail: 'outbox@example.com',
    items: [{ sku: 'OUT-1', quantity: 1 }],
    occurredAt: new Date().toISOString(),
  });

  it('publishes an event only if its transaction commits, and wakes on the commit', async () => {
    const outbox = startRelay(60_000); // no polling: only the commit can wake it
    const committed = randomUUID();
    const rolledBack = randomUUID();

    await outbox.transaction(async (trx) => outbox.add(trx, OrderCreated, event(committed)));
    await outbox
      .transaction(async (trx) => {
        await outbox.add(trx, OrderCreated, event(rolledBack));
        throw new Error('the state change failed');
      })
      .catch(() => undefined);

    const published = await probe.next(OrderCreated, {
      where: (e) => e.orderId === committed,
      timeoutMs: 2_000,
    });
    expect(published.messageId).toBeDefined();
    // Marked once the broker's confirm is in, which may come after the probe got the event.
    await waitFor('the outbox row to be marked published', async () => {
      const row = await db
        .selectFrom('outbox_messages')
        .select(['published_at'])
        .where('message_id', '=', published.messageId!)
        .executeTakeFirstOrThrow();
      return row.published_at !== null;
    });
    expect(probe.all(OrderCreated, (e) => e.orderId === rolledBack)).toHaveLength(0);
    const rows = await db.selectFrom('outbox_messages').select('payload').execute();
    expect(rows.filter((r) => r.payload.orderId === rolledBack)).toHaveLength(0);
  });

  it('publishes rows committed before a crash once a relay runs again, each exactly once across replicas', async () => {
    // Rows committed while no relay ran (the process died between commit and publish).
    const orderIds = Array.from({ length: 300 }, () => randomUUID());
    await db
      .insertInto('outbox_messages')
      .values(
        orderIds.map((orderId) => ({
          message_id: randomUUID(),
          type: OrderCreated.name,
          version: OrderCreated.version,
          routing_key: OrderCreated.name,
          payload: JSON.stringify(event(orderId)),
          correlation_id: 'before-crash',
        })),
      )
      .execute();

    // Three replicas compete for them.
    startRelay();
    startRelay();
    startRelay();

    await waitFor(
      'every row to be published',
      async () => {
        const { pending } = await db
          .selectFrom('outbox_messages')
          .select((eb) => eb.fn.countAll<string>().as('pending'))
          .where('published_at', 'is', null)
          .executeTakeFirstOrThrow();
        return Number(pending) === 0;
      },
      { timeoutMs: 20_000 },
    );
    await waitFor(
      'every event to arrive',
      () => orderIds.every((id) => probe.all(OrderCreated, (e) => e.orderId === id).length > 0),
      {
        timeoutMs: 10_000,
      },
    );

    const received = probe.received.filter((m) => m.correlationId === 'before-crash');
    expect(received).toHaveLength(orderIds.length);
    expect(new Set(received.map((m) => m.messageId)).size).toBe(orderIds.length);
  });
});
